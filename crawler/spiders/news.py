"""The generic news spider: a seed list in, article pages out.

``scrapy crawl news -a seeds=seeds/outlets.toml``

Articles are discovered three ways per outlet: sitemaps (plain, index and
Google News), RSS/Atom feeds, and front or section pages. An outlet given only
its home page has them discovered first (:mod:`crawler.discovery`): the home
page (its redirects followed only within the outlet's domains), robots.txt's
sitemaps (else the usual locations, each answer sniffed), the feeds the home
page and its sections declare (else the usual locations), and the sections of
its navigation; every discovery fetch is archived like any other.

With ``article_patterns``, every entry of a feed or sitemap is taken as an
article, and on section pages the links matching the patterns are; links
matching ``follow_patterns`` are followed as further section pages. Without
them, a link or listed URL is taken by its shape
(:func:`archive.urlshape.classify_url`; shapes the outlet's past pages proved
to be articles' are taken too, and first), section pages' pagination is
followed, and once fetched the page itself decides whether it is counted
(``ArticlePage.url_verdict``, decided after extraction by
:class:`crawler.decision.ArticleDecisionPipeline`). Section pages are followed
up to ``SECTION_DEPTH_LIMIT`` links away from a start or home page (Scrapy's
``DEPTH_LIMIT`` would also cut articles behind nested sitemap indexes and an
article's page requisites). A link is taken for an outlet only if the outlet
owns it most specifically (:meth:`archive.seeds.SeedList.owner`), the rule the
database attributes captures by.

An outlet where nothing was found (its home page answered 403, was not HTML,
redirected off its domains, or led to no feed, sitemap or article link) gets
one line in the log when the crawl ends, ``example.org: no articles found:
homepage 403``, and the stat ``discovery/no_articles``. With ``-a
discover=FILE`` the crawl only discovers: it fetches home pages, robots.txt,
sitemaps, feeds and the home pages' sections, fetches no article, and writes
what it found to FILE as a seed list for review
(:func:`archive.seeds.discovered_seeds`). Each feed or sitemap also yields a :class:`Listing`
of its entries and their publication dates, archived beside the feed itself,
so the date a feed or news sitemap gave an article is kept beside the page's
own, whichever order the pages happen to arrive in.

The spider only parses; archiving happens in the recorder extension and the
pipelines. In a distributed crawl ``scrapy crawl news`` runs its subclass
:class:`crawler.distributed.spider.DistributedNewsSpider` instead (the crawl
command chooses it, :mod:`crawler.commands.crawl`); this module knows nothing
of it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any

from scrapy import Request, Spider
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from archive.seeds import RECHECK_KIND, Discovered, Outlet, SeedList, discovered_seeds, load_seeds
from archive.urls import UnparseableUrl, join_url, split_url
from archive.urlshape import LISTING_KINDS, UrlVerdict, classify_url, url_shape
from crawler.discovery import (
    guessed_feeds,
    guessed_sitemaps,
    in_scope,
    listing_kind,
    page_findings,
    robots_sitemaps,
    robots_url,
    site_scope,
)
from crawler.items import ArticlePage, FetchFailure, Listing
from crawler.listings import UnreadableListing, feed_entries, sitemap_entries
from crawler.middlewares.known import ARTICLE_META
from crawler.recorder import FETCHED_AT_META, UNCHANGED_META
from crawler.requisites import requisites
from crawler.schedule import RECHECK_META
from crawler.shapes import learned_shapes

#: Discovery documents go before articles in the queue, page requisites after them; the home page and
#: robots.txt before every other discovery document, links of shapes proven articles before other links.
DISCOVERY_PRIORITY = 10
HOME_PRIORITY = DISCOVERY_PRIORITY + 1
LEARNED_PRIORITY = 1
REQUISITE_PRIORITY = -5
#: Redirects of a home page followed (by hand: each must stay on the outlet's domains).
MAX_HOME_REDIRECTS = 5
#: Request meta keys: the redirects a home page request has followed; the depth of a section page.
HOME_HOPS_META = "home_redirects"
SECTION_DEPTH_META = "section_depth"
#: A listed URL of these kinds is not fetched as an article (a feed lists stories; a sitemap lists sections too).
_NOT_LISTED = {"feed": LISTING_KINDS, "sitemap": LISTING_KINDS | {"section"}}


class NewsSpider(Spider):
    name = "news"
    # What a subclass that does not call this __init__ (the recheck spider) reads: nothing discovered,
    # and a page's owner looked up among all the seed list's outlets.
    discover_only: Path | None = None
    discovered: Mapping[str, Discovered] = MappingProxyType({})
    _shared = True

    def __init__(
        self,
        seeds: str | None = None,
        *args: Any,
        seed_list: SeedList | None = None,
        discover: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if seed_list is None:
            if not seeds:
                raise ValueError("the news spider needs a seed list: scrapy crawl news -a seeds=seeds/FILE.toml")
            seed_list = load_seeds(seeds)
        self.seed_list: SeedList = seed_list
        self.allowed_domains = self.seed_list.allowed_domains
        self._links = LinkExtractor(unique=True)
        #: ``-a discover=FILE``: discovery only, its findings written to FILE.
        self.discover_only = Path(discover) if discover else None
        #: What discovery found for each outlet discovered from its home page, and how many article links.
        self.discovered: dict[str, Discovered] = {}  # type: ignore[misc]
        self.candidates: dict[str, int] = {}
        self._scopes: dict[str, str] = {}
        self._counted: set[str] = set()  # candidates counted by shape, in discovery mode
        self._learned: dict[str, frozenset[str]] = {}
        # Whether two outlets share a domain: only then must a link's owner be looked up among all outlets.
        domains = [d for o in seed_list.outlets for d in o.allowed_domains]
        self._shared = len(set(domains)) < len(domains) or any(
            d != e and d.endswith("." + e) for d in set(domains) for e in set(domains)
        )

    @property
    def page_requisites(self) -> bool:
        """``ARCHIVE_PAGE_REQUISITES``: also archive an article's images, stylesheets
        and scripts on the outlet's domains, so that it replays as it looked."""
        return self.settings.getbool("ARCHIVE_PAGE_REQUISITES")

    async def start(self) -> AsyncIterator[Request]:
        await self.learn_shapes()
        for outlet in self.seed_list.outlets:
            for kind, url in outlet.seeds():
                if request := self.seed_request(kind, url, outlet):
                    yield request

    async def learn_shapes(self) -> None:
        """Read the URL shapes the outlets' past pages proved to be articles' (:mod:`crawler.shapes`): needed
        before the first link is taken, so that links of those shapes are taken, and fetched first."""
        if hasattr(self, "crawler"):  # a spider built without a crawler (tests) has no archive to learn from
            self._learned = await learned_shapes(self.crawler, [o.name for o in self.seed_list.outlets if o.classified])

    def seed_request(self, kind: str, url: str, outlet: Outlet) -> Request | None:
        """The request for a seed URL of an outlet: a sitemap, a feed, a section page, or a known
        article to recheck (queued by ``newsarchive seeds recheck`` for a distributed crawl; fetched
        conditionally, if still due, by :class:`~crawler.middlewares.known.KnownArticlesMiddleware`).
        None if the URL cannot be parsed, as for any URL: see :meth:`_request`."""
        if kind == RECHECK_KIND:
            request = self._request(url, self.parse_article, outlet, 0, "seed")
            if request is not None:
                request.dont_filter = True  # checked before: the crawl's dupefilter has seen it
            return request
        if kind == "home":
            self.discovered.setdefault(outlet.name, Discovered(outlet))
            return self._home_request(url, outlet, 0)
        if kind == "section":
            return self._request(url, self.parse_section, outlet, DISCOVERY_PRIORITY - 1, "seed")
        callback = {"sitemap": self.parse_sitemap, "feed": self.parse_feed}[kind]
        return self._request(url, callback, outlet, DISCOVERY_PRIORITY, "seed")

    # -- discovery from a home page ----------------------------------------------------------

    def parse_homepage(self, response: Response, outlet: str) -> Iterator[Request | Listing]:
        """Follow the home page's redirects on the outlet's domains, then discover from it: robots.txt,
        its feeds (declared, else guessed), its sections, and its own article links."""
        current = self._outlet(outlet)
        if 300 <= response.status < 400:
            yield from self._home_redirect(response, current)
            return
        if response.status >= 400:
            self._nothing_found(current, f"homepage {response.status}")
            return
        if not isinstance(response, HtmlResponse):
            kind = response.headers.get(b"Content-Type", b"").decode("latin-1") or "no Content-Type"
            self._nothing_found(current, f"homepage is not HTML ({kind})")
            return
        scope = self._scopes[outlet] = site_scope(response.url)
        robots = self._request(robots_url(scope), self.parse_robots, current, HOME_PRIORITY, "robots")
        if robots is not None:
            robots.meta["handle_httpstatus_all"] = True
            yield robots.replace(dont_filter=True)  # outlets sharing a host each read it
        findings = page_findings(response.url, response.body, scope)
        self._refused(findings.unparseable, "discovery")
        found = self.discovered.setdefault(outlet, Discovered(current))
        found.sections += [url for url in findings.sections if url not in found.sections]
        found.feeds += [url for url in findings.feeds if url not in found.feeds]
        if findings.feeds:
            yield from self._discovery_requests(findings.feeds, self.parse_feed, current, "feed")
        else:
            yield from self._discovery_requests(guessed_feeds(scope), self.parse_guessed, current, "guess")
        yield from self._section_links(response, current, 0, findings.sections)

    def _home_redirect(self, response: Response, outlet: Outlet) -> Iterator[Request]:
        hops = response.meta.get(HOME_HOPS_META, 0)
        location = response.headers.get(b"Location", b"").decode("latin-1").strip()
        try:
            target = join_url(response.url, location) if location else None
        except UnparseableUrl:
            target = None
        if target is None or hops >= MAX_HOME_REDIRECTS:
            problem = "without a usable Location" if target is None else f"more than {MAX_HOME_REDIRECTS} times"
            self._nothing_found(outlet, f"homepage {response.status} redirects {problem}")
        elif self._owner(target, outlet) is not outlet:
            self._nothing_found(outlet, f"homepage redirects off the outlet's domains, to {target}")
        elif request := self._home_request(target, outlet, hops + 1):
            yield request

    def _home_request(self, url: str, outlet: Outlet, hops: int) -> Request | None:
        """The request for a home page: its redirects followed by hand, within the outlet's domains, and
        every answer seen, to be reported."""
        request = self._request(url, self.parse_homepage, outlet, HOME_PRIORITY, "seed")
        if request is None:
            self._nothing_found(outlet, "homepage URL cannot be parsed")
            return None
        request.meta.update({"dont_redirect": True, "handle_httpstatus_all": True, HOME_HOPS_META: hops})
        return request.replace(errback=self.homepage_failed)

    def homepage_failed(self, failure: Failure) -> Iterator[FetchFailure]:
        """A home page that got no answer: the outlet's line in the summary says why."""
        request = failure.request  # type: ignore[attr-defined]
        name = request.cb_kwargs.get("outlet")
        error = f"{failure.type.__name__}: {failure.getErrorMessage()}"
        self._nothing_found(self._outlet(name), f"homepage not fetched: {error}")
        yield from self.fetch_failed(failure)

    def parse_robots(self, response: Response, outlet: str) -> Iterator[Request]:
        """The sitemaps robots.txt names within the outlet's scope, else the usual locations, guessed."""
        current = self._outlet(outlet)
        named = robots_sitemaps(response.url, response.body) if response.status == 200 else None
        if named is not None:
            self._refused(named.unparseable, "robots")
        scope = self._scope(current)
        kept = [url for url in (named.sitemaps if named else ()) if in_scope(url, scope)]
        if kept:
            self.discovered.setdefault(outlet, Discovered(current)).sitemaps += kept
            yield from self._discovery_requests(kept, self.parse_sitemap, current, "sitemap")
        else:
            yield from self._discovery_requests(guessed_sitemaps(scope), self.parse_guessed, current, "guess")

    def parse_guessed(self, response: Response, outlet: str) -> Iterator[Request | Listing]:
        """A usual location of a sitemap or feed: read as what it turns out to be (many sites answer any path
        with a page of HTML and status 200)."""
        kind = listing_kind(response.body)
        if kind is None:
            return
        found = self.discovered.setdefault(outlet, Discovered(self._outlet(outlet)))
        (found.sitemaps if kind == "sitemap" else found.feeds).append(response.url)
        yield from (self.parse_sitemap if kind == "sitemap" else self.parse_feed)(response, outlet)

    def _discovery_requests(self, urls: Iterable[str], callback: Any, outlet: Outlet, source: str) -> Iterator[Request]:
        for url in urls:
            if request := self._request(url, callback, outlet, DISCOVERY_PRIORITY, source):
                yield request

    def _nothing_found(self, outlet: Outlet, problem: str) -> None:
        found = self.discovered.setdefault(outlet.name, Discovered(outlet))
        found.problem = found.problem or problem

    def closed(self, reason: str) -> None:
        """One line for each outlet discovered without finding an article; the seed file in discovery mode.

        Stats: ``discovery/no_articles``."""
        for name, found in self.discovered.items():
            if self.candidates.get(name):
                continue
            found.problem = found.problem or "no feeds, no sitemap and no article links"
            self.logger.warning("%s: no articles found: %s", name, found.problem)
            if self.crawler.stats is not None:
                self.crawler.stats.inc_value("discovery/no_articles")
        if self.discover_only is not None:
            source = f"{self.seed_list.path}, crawl {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
            self.discover_only.write_text(discovered_seeds(self.discovered.values(), source), encoding="utf-8")
            self.logger.info("discovered outlets written to %s", self.discover_only)

    # -- sitemaps, feeds, sections --------------------------------------------------------

    def parse_sitemap(self, response: Response, outlet: str) -> Iterator[Request | Listing]:
        current = self._outlet(outlet)
        try:
            children, entries = sitemap_entries(response, self.settings.getint("LISTING_MAX_SIZE"))
        except UnreadableListing as e:
            self._unreadable(response, "sitemap", e)
            return
        for loc in children:
            if request := self._request(loc, self.parse_sitemap, current, DISCOVERY_PRIORITY, "sitemap"):
                yield request
        yield from self._listed(response, current, "sitemap", entries)

    def parse_feed(self, response: Response, outlet: str) -> Iterator[Request | Listing]:
        try:
            written = feed_entries(response, self.settings.getint("LISTING_MAX_SIZE"))
        except UnreadableListing as e:
            self._unreadable(response, "feed", e)
            return
        entries = []
        for link, published in written:  # feeds may give links relative to themselves
            try:
                entries.append((join_url(response.url, link), published))
            except UnparseableUrl as e:
                self._unparseable(e, "feed")
        yield from self._listed(response, self._outlet(outlet), "feed", entries)

    def _unreadable(self, response: Response, source: str, error: UnreadableListing) -> None:
        """Count and log a sitemap or feed left unread (``LISTING_MAX_SIZE``); it stays archived as received.

        Stats: ``listings/unreadable``.
        """
        self.logger.warning("%s %s not read: %s", source, response.url, error)
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("listings/unreadable")

    def parse_section(self, response: Response, outlet: str) -> Iterator[Request]:
        if not isinstance(response, TextResponse):
            return
        current = self._outlet(outlet)
        depth = response.meta.get(SECTION_DEPTH_META, 0)
        sections: tuple[str, ...] = ()
        if current.discovered:  # its sections declare feeds, and lead to further sections
            findings = page_findings(response.url, response.body, self._scope(current))
            self._refused(findings.unparseable, "discovery")
            found = self.discovered.setdefault(outlet, Discovered(current))
            found.feeds += [url for url in findings.feeds if url not in found.feeds]
            yield from self._discovery_requests(findings.feeds, self.parse_feed, current, "feed")
            sections = findings.sections
        yield from self._section_links(response, current, depth, sections)

    def _section_links(
        self, response: TextResponse, outlet: Outlet, depth: int, sections: Iterable[str]
    ) -> Iterator[Request]:
        """A front or section page's article links, and the section pages it leads to within the depth limit:
        the pattern outlet's ``follow_patterns``, or the classified one's pagination and navigation sections."""
        limit = 1 if self.discover_only else self.settings.getint("SECTION_DEPTH_LIMIT")
        follow = depth < limit
        further = list(sections) if follow else []
        for link in self._links.extract_links(response):
            url = link.url
            if not self._parseable(url, "link") or not outlet.owns(url) or self._owner(url, outlet) is not outlet:
                continue
            if outlet.article_patterns:
                if outlet.is_article(url):
                    yield from self._candidate(url, outlet, 0, "link")
                elif follow and outlet.is_section(url):
                    further.append(url)
                continue
            verdict = classify_url(url)
            learned = url_shape(url) in self._learned.get(outlet.name, ())
            if verdict.is_article or learned:
                yield from self._candidate(url, outlet, LEARNED_PRIORITY if learned else 0, "link")
            elif follow and verdict.kind == "pagination" and not self.discover_only:
                further.append(url)
        for url in further:
            if section := self._request(url, self.parse_section, outlet, DISCOVERY_PRIORITY - 1, "link"):
                section.meta[SECTION_DEPTH_META] = depth + 1
                yield section

    def _candidate(self, url: str, outlet: Outlet, priority: int, source: str) -> Iterator[Request]:
        """An article candidate: fetched, or in discovery mode counted by its shape."""
        self.candidates[outlet.name] = self.candidates.get(outlet.name, 0) + 1
        if self.discover_only is not None:
            if url in self._counted:
                return
            self._counted.add(url)
            found = self.discovered.setdefault(outlet.name, Discovered(outlet))
            shape = url_shape(url)
            found.shapes[shape] += 1
            found.examples.setdefault(shape, url)
            return
        if request := self._request(url, self.parse_article, outlet, priority, source):
            yield request

    def parse_article(self, response: Response, outlet: str | None) -> Iterator[ArticlePage | Request]:
        # The extractor refuses publication dates after the fetch: the recorder's fetch time (the
        # response record's WARC-Date) makes this extraction agree with a re-extraction from the WARC.
        if response.meta.get(UNCHANGED_META):
            # the body archived last time, byte for byte (archived as a revisit): nothing new to read
            self.crawler.stats.inc_value("recheck/unchanged")
            return
        fetched_at = response.meta.get(FETCHED_AT_META) or datetime.now(timezone.utc)
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
        current = self._outlet(outlet) if outlet is not None else None
        if current is not None and self.seed_list is not None:
            # named as the database will attribute the page (after redirects): most specific owner
            current = self._owner(response.url, current) or current
        if self.page_requisites and isinstance(response, TextResponse) and current is not None:
            yield from self._requisites(response, current)
        # a new candidate of an outlet without patterns is counted only if the page says it is an article
        decided = current is not None and current.classified and RECHECK_META not in response.meta
        yield ArticlePage(
            url=response.url,
            outlet=current.name if current is not None else None,
            html=response.text if isinstance(response, TextResponse) else "",
            content_type=content_type,
            fetched_at=fetched_at,
            url_verdict=self._verdict(response.url) if decided else None,
        )

    def parse_requisite(self, response: Response, outlet: str) -> Iterator[Any]:
        """Nothing to parse: the recorder has archived the image, stylesheet or script."""
        yield from ()

    def _requisites(self, response: TextResponse, outlet: Outlet) -> Iterator[Request]:
        """The article's images, stylesheets and scripts on the outlet's own domains, for replay."""
        for src in requisites(response.text, outlet.owns_host):
            try:
                url = join_url(response.url, src)
            except UnparseableUrl as e:
                self._unparseable(e, "requisite")
                continue
            if url.startswith(("http://", "https://")) and outlet.owns(url):
                if request := self._request(url, self.parse_requisite, outlet, REQUISITE_PRIORITY, "requisite"):
                    yield request

    def fetch_failed(self, failure: Failure) -> Iterator[FetchFailure]:
        """Record fetches that got no HTTP response; refused and non-2xx ones are archived already."""
        if failure.check(IgnoreRequest, HttpError):
            return
        request = failure.request  # type: ignore[attr-defined]
        yield FetchFailure(
            url=request.url,
            outlet=request.cb_kwargs.get("outlet"),
            error=f"{failure.type.__name__}: {failure.getErrorMessage()}",
            at=datetime.now(timezone.utc),
        )

    def _request(
        self, url: str, callback: Any, outlet: Outlet, priority: int = 0, source: str = "link"
    ) -> Request | None:
        """The request for a URL found at ``source`` (a seed, link, listed URL or requisite), or
        None if it cannot be parsed: the rest of the page goes on without it."""
        if not self._parseable(url, source):
            return None
        try:
            return Request(
                url,
                callback=callback,
                errback=self.fetch_failed,
                cb_kwargs={"outlet": outlet.name},
                priority=priority,
                # looked up in the recheck schedule before it is fetched (crawler/middlewares/known.py)
                meta={ARTICLE_META: True} if callback == self.parse_article else None,
            )
        except ValueError as e:  # a URL the archive reads that Scrapy still refuses
            self._unparseable(UnparseableUrl(url, f"Scrapy refuses it: {e}"), source)
            return None

    def _parseable(self, url: str, source: str) -> bool:
        try:
            split_url(url)
        except UnparseableUrl as e:
            self._unparseable(e, source)
            return False
        return True

    def _unparseable(self, error: UnparseableUrl, source: str) -> None:
        """Count and log a URL left out; the page, feed or sitemap holding it is archived as received.

        Stats: ``urls/unparseable`` and ``urls/unparseable/<source>``.
        """
        self.logger.warning("%s left out: %s", source, error)
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("urls/unparseable")
            self.crawler.stats.inc_value(f"urls/unparseable/{source}")

    def _listed(
        self, response: Response, outlet: Outlet, source: str, entries: list[tuple[str, str | None]]
    ) -> Iterator[Request | Listing]:
        for url, _ in entries:
            if outlet.article_patterns:
                if request := self._request(url, self.parse_article, outlet, 0, source):
                    self.candidates[outlet.name] = self.candidates.get(outlet.name, 0) + 1
                    yield request
                continue
            # a sitemap lists home, section and legal pages too: its URLs are classified like links
            if not self._parseable(url, source) or self._owner(url, outlet) is not outlet:
                continue
            learned = url_shape(url) in self._learned.get(outlet.name, ())
            if learned or classify_url(url).kind not in _NOT_LISTED[source]:
                yield from self._candidate(url, outlet, LEARNED_PRIORITY if learned else 0, source)
        if entries:
            yield Listing(
                url=response.url,
                outlet=outlet.name,
                source=source,
                entries=entries,
            )

    def _owner(self, url: str, outlet: Outlet) -> Outlet | None:
        """The outlet owning a URL most specifically; cheaply ``outlet`` when no two outlets share a domain."""
        if not self._shared:
            return outlet if outlet.owns(url) else None
        return self.seed_list.owner(url)

    def _scope(self, outlet: Outlet) -> str:
        """Where the outlet's site is: its home page's, after redirects if this process fetched it."""
        if outlet.name not in self._scopes:
            self._scopes[outlet.name] = site_scope(outlet.homepage or "")
        return self._scopes[outlet.name]

    @staticmethod
    def _verdict(url: str) -> UrlVerdict | None:
        try:
            return classify_url(url)
        except UnparseableUrl:
            return None

    def _refused(self, errors: Iterable[UnparseableUrl], source: str) -> None:
        for error in errors:
            self._unparseable(error, source)

    def _outlet(self, name: str) -> Outlet:
        """The seed list's outlet of that name; KeyError naming it if there is none."""
        for outlet in self.seed_list.outlets:
            if outlet.name == name:
                return outlet
        raise KeyError(f"outlet {name!r} is not in the crawl's seeds")
