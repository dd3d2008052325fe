"""Eight outlets of different real-world shapes, each with the exact sets a discovery crawl must find.

An outlet is known here only by its home page, as in a minimal seed entry.
Each one is built page by page, and every URL it serves is filed as it is
made: an article, a page that is not one (home, section, tag, author,
pagination, archive, about), a listing (feed, sitemap) or something else
(robots.txt, images, API answers). What discovery must find from the home page
and robots.txt (sitemaps, feeds, sections, and the feeds the sections
declare) is written out by hand, not derived, so a test compares the
discoverer with what the site's author meant.

- **The Ledger** (WordPress with Yoast SEO): ``/feed/``, ``sitemap_index.xml``
  named in robots.txt (its page and category sitemaps list non-articles too),
  dated URLs, category, tag, author, pagination and date-archive pages,
  category feeds, comment feeds, ``wp-json`` alternates.
- **The Courier** (Drupal 7): ``/rss.xml``, a ``/sitemap.xml`` robots.txt does
  not name, ``/node/123`` and aliased ``/news/slug`` URLs, ``/taxonomy/term/123``
  tags with feeds, ``/user/12`` authors, ``?page=1`` pagination, a log-in link.
- **Newsmap Daily**: a Google News sitemap only; ``…-20190228.html`` articles,
  one too old for the news sitemap and listed only on its section.
- **The Evening Post**: RSS, Atom and JSON Feed, section feeds, no robots.txt
  and no sitemap; feeds list the latest stories only.
- **The Plain Chronicle**: neither feeds nor sitemaps, every unknown path
  answered 200 with a "not found" page; articles only through sections (the
  oldest only on a section's second page); tag, author and pagination pages;
  a coverage hub at a long slug that looks like an article's address but
  whose page says it is a collection (a *decoy*: only the page tells).
- **The Observer**: its bare domain redirects to ``www.`` (robots.txt names
  the sitemap on the bare domain); ``/world/2019/feb/28/slug`` URLs.
- **The Twin Herald** and **The Twin Review**: one domain, told apart by path
  (``/herald/``, ``/review/``), a portal at ``/``, one robots.txt naming both
  sitemaps, each header linking to the other title.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

from tests.discoveryweb import pages
from tests.discoveryweb.pages import Chrome, Listing, Story, feed_link
from tests.fixtureweb import SITE_DIR, load_seeds

#: A tiny real JPEG, the fixture web's own.
_JPEG = (SITE_DIR / "thinkprogress.org/wp-content/uploads/2019/02/hanoi-summit-working-lunch-table.jpg").read_bytes()

HTML = "text/html; charset=utf-8"
RSS = "application/rss+xml; charset=UTF-8"
ATOM = "application/atom+xml; charset=utf-8"
XML = "application/xml; charset=utf-8"
JSON = "application/json; charset=utf-8"
TEXT = "text/plain; charset=utf-8"

#: Headlines for the outlets' stories, each used once, with the day it ran.
HEADLINES: tuple[tuple[str, date], ...] = tuple(
    (headline, date(2019, month, day))
    for headline, month, day in (
        ("Hanoi Summit Ends Without a Deal as Trump Walks Away", 2, 28),
        ("Kim Jong Un Arrives in Vietnam After Long Train Journey", 2, 26),
        ("What the Collapse of the Hanoi Talks Means for Sanctions", 3, 1),
        ("Peace Groups Call the Summit a Missed Opportunity", 2, 28),
        ("Inside the Working Lunch That Never Happened", 3, 1),
        ("North Korea Disputes Trump Account of Sanctions Demand", 3, 1),
        ("Trump and Kim Meet Again in Hanoi Under Heavy Security", 2, 27),
        ("South Korea Urges Both Sides to Keep Talking", 3, 2),
        ("Vietnam Showcases Its Own Path From War to Trade", 2, 25),
        ("The Yongbyon Offer and Why Washington Said No", 3, 1),
        ("Markets in Seoul Slip as Summit Breaks Up Early", 2, 28),
        ("Cohen Testimony Overshadows Diplomacy Back Home", 2, 27),
        ("A Second Summit Built on Personal Chemistry Alone", 2, 26),
        ("Analysts Say Hanoi Failure Was Predictable From the Start", 3, 1),
        ("Korean Families Still Waiting for an End to the War", 2, 28),
        ("Pompeo Says Talks Will Continue Despite Setback", 3, 1),
        ("How the Hanoi Press Center Learned the Talks Were Over", 2, 28),
        ("Sanctions Relief Was Always the Sticking Point", 3, 2),
        ("Kim Leaves Vietnam With Nothing to Show for the Trip", 3, 2),
        ("The Hawks Who Cheered When the Summit Failed", 3, 1),
        ("Why Walking Away Can Be the Start of Diplomacy", 3, 1),
        ("Hotel Metropole Prepares for the Leaders Arrival", 2, 26),
        ("Japan Welcomes Trump Refusal to Accept a Bad Deal", 3, 1),
        ("China Calls on Washington and Pyongyang to Show Patience", 3, 1),
        ("Lessons From Singapore That Hanoi Ignored", 2, 25),
        ("Congress Demands Briefing on the Collapsed Talks", 3, 2),
        ("The Declaration That Was Drafted but Never Signed", 3, 1),
        ("Denuclearization Remains a Word Without a Shared Meaning", 2, 27),
        ("Reporters Barred From Dinner After Shouted Questions", 2, 28),
        ("Restaurants Near the Summit Sell Trump and Kim Burgers", 2, 26),
        ("Former Negotiators Weigh In on What Comes Next", 3, 2),
        ("A Timeline of the Two Days in Hanoi", 2, 28),
        ("Why a Peace Declaration Still Matters to Koreans", 3, 1),
        ("The Quiet Role of Vietnam as Summit Host", 2, 27),
        ("Trump Praises Kim Even as Talks Collapse", 2, 28),
        ("Nuclear Experts Doubt Any Deal Was Within Reach", 3, 2),
        ("Pyongyang State Media Reports Summit Without Mentioning Failure", 3, 1),
        ("Seoul Families Watch the Summit on Television", 2, 28),
        ("Why the Sanctions Debate Will Outlast This Summit", 3, 2),
        ("The Next Round of Talks Has No Date Yet", 3, 2),
        ("Trump Says He Had to Walk Because the Offer Fell Short", 2, 28),
        ("Vietnam Hopes the Summit Will Bring More Visitors", 2, 27),
        ("Kim Sister Seen Managing Every Detail of the Visit", 2, 27),
        ("Why the Singapore Statement Proved So Hard to Build On", 2, 25),
        ("Moon Jae In Offers to Mediate After the Collapse", 3, 2),
    )
)
#: A home page that redirects off its own domain, to The Evening Post's.
MOVED_HOMEPAGE = "http://moved-gazette.org/"
AUTHORS = ("Jessica Corbett", "Daniel Larison", "Alex Ward", "Hannah Cho", "Minh Tran", "Sam Becker")


@dataclass(frozen=True)
class Response:
    """What the server answers for one URL."""

    status: int
    body: bytes
    content_type: str
    location: str | None = None


@dataclass(frozen=True)
class FixtureOutlet:
    """One outlet: its home page (as a seed gives it), its URLs by kind, and what discovery must find."""

    name: str
    homepage: str
    #: :func:`crawler.discovery.site_scope` of the home page after redirects.
    scope: str
    articles: frozenset[str]
    #: HTML pages that are not articles: home, sections, tags, authors, pagination, archives, about.
    pages: frozenset[str]
    #: Feeds and sitemaps.
    listings: frozenset[str]
    #: robots.txt, images, API answers.
    others: frozenset[str]
    #: What robots.txt names (all of it), and the sitemaps discovery keeps (in scope; guessed if none named).
    robots_sitemaps: tuple[str, ...]
    sitemaps: tuple[str, ...]
    #: Feeds found from the home page (declared, or guessed if none), and those its sections declare.
    feeds: tuple[str, ...]
    section_feeds: tuple[str, ...]
    #: The home page's navigation sections, in page order.
    sections: tuple[str, ...]
    #: True when every unknown path is answered 200 with an HTML page.
    soft_404: bool = False
    #: Pages (among ``pages``) whose URL looks like an article's: only what the page says shows it is not one.
    decoys: frozenset[str] = frozenset()

    @property
    def non_articles(self) -> frozenset[str]:
        """Every URL the outlet serves that is not an article."""
        return self.pages | self.listings | self.others


@dataclass
class _Builder:
    """Files each URL of one outlet as its response is added to the web."""

    web: dict[str, Response]
    name: str
    origin: str
    chrome: Chrome | None = None
    articles: set[str] = field(default_factory=set)
    pages: set[str] = field(default_factory=set)
    listings: set[str] = field(default_factory=set)
    others: set[str] = field(default_factory=set)

    def url(self, path: str) -> str:
        return self.origin + path

    def _add(self, url: str, response: Response, into: set[str]) -> None:
        if url in self.web:
            raise ValueError(f"{url} served twice")
        self.web[url] = response
        into.add(url)

    def article(self, story: Story, related: Sequence[Story] = (), head_links: Sequence[str] = ()) -> None:
        assert self.chrome is not None
        self._add(
            story.url, Response(200, pages.article_page(story, self.chrome, related, head_links), HTML), self.articles
        )

    def listing_page(self, listing: Listing) -> None:
        assert self.chrome is not None
        self._add(listing.url, Response(200, pages.listing_page(listing, self.chrome), HTML), self.pages)

    def plain_page(self, url: str, title: str, text: str) -> None:
        assert self.chrome is not None
        self._add(url, Response(200, pages.plain_page(url, title, text, self.chrome), HTML), self.pages)

    def listing(self, url: str, body: bytes, content_type: str) -> None:
        self._add(url, Response(200, body, content_type), self.listings)

    def other(self, url: str, body: bytes, content_type: str) -> None:
        self._add(url, Response(200, body, content_type), self.others)

    def redirect(self, url: str, location: str) -> None:
        self.web[url] = Response(301, b"", HTML, location)

    def outlet(self, homepage: str, scope: str, **found: tuple[str, ...] | bool) -> FixtureOutlet:
        return FixtureOutlet(
            name=self.name,
            homepage=homepage,
            scope=scope,
            articles=frozenset(self.articles),
            pages=frozenset(self.pages),
            listings=frozenset(self.listings),
            others=frozenset(self.others),
            **found,  # type: ignore[arg-type]
        )


def _slug(headline: str, drop_short: bool = False) -> str:
    words = "".join(c if c.isalnum() else " " for c in headline.lower()).split()
    return "-".join(w for w in words if not drop_short or len(w) > 2)


def _stories(
    b: _Builder,
    headlines: Iterator[tuple[str, date]],
    n: int,
    path: Callable[[str, date, int], str],
    sections: Sequence[tuple[str, str]],
    authors: Sequence[tuple[str, str]],
    tags: Sequence[tuple[str, str]],
    image: Callable[[str, date], str] | None = None,
) -> list[Story]:
    """``n`` stories, newest first, their text cut from the seeds in turn."""
    seeds = load_seeds()
    made = []
    for i in range(n):
        headline, day = next(headlines)
        slug = _slug(headline)
        author, author_url = authors[i % len(authors)]
        section, section_url = sections[i % len(sections)]
        paragraphs, standfirst = pages.story_text(seeds[i % len(seeds)], i + len(b.name))
        made.append(
            Story(
                url=b.url(path(slug, day, i)),
                headline=headline,
                published=day,
                author=author,
                author_url=author_url,
                section=section,
                section_url=section_url,
                tags=(tags[i % len(tags)], tags[(i + 1) % len(tags)]) if len(tags) > 1 else tuple(tags),
                paragraphs=paragraphs,
                standfirst=standfirst,
                image=image(slug, day) if image else None,
                position=i,
            )
        )
    made.sort(key=lambda s: (s.published, s.position), reverse=True)
    return made


def _publish(
    b: _Builder, stories: Sequence[Story], head_links: Callable[[Story], Sequence[str]] = lambda s: ()
) -> None:
    """Each story's page, with the two stories around it as related links, and its image."""
    for i, story in enumerate(stories):
        related = [stories[j] for j in (i - 1, i + 1) if 0 <= j < len(stories)]
        b.article(story, related, head_links(story))
        if story.image and story.image not in b.web:
            b.other(story.image, _JPEG, "image/jpeg")


def _in(stories: Sequence[Story], attribute: str, url: str) -> list[Story]:
    if attribute == "tags":
        return [s for s in stories if any(tag_url == url for _, tag_url in s.tags)]
    return [s for s in stories if getattr(s, attribute) == url]


def _paged(
    b: _Builder,
    url: str,
    title: str,
    kind: str,
    stories: Sequence[Story],
    per_page: int,
    page_url: Callable[[int], str],
    head_links: tuple[str, ...] = (),
) -> None:
    """A listing split into pages of ``per_page`` stories; page ``n`` > 1 at ``page_url(n)``."""
    chunks = [stories[i : i + per_page] for i in range(0, len(stories), per_page)] or [[]]
    for n, chunk in enumerate(chunks, start=1):
        b.listing_page(
            Listing(
                url=url if n == 1 else page_url(n),
                title=title if n == 1 else f"{title} – Page {n}",
                kind=kind if n == 1 else "pagination",
                stories=chunk,
                older=page_url(n + 1) if n < len(chunks) else None,
                newer=(url if n == 2 else page_url(n - 1)) if n > 1 else None,
                head_links=head_links,
            )
        )


def _footer(b: _Builder, trailing: str = "/") -> tuple[tuple[str, str], ...]:
    return tuple(
        (label, b.url(f"/{slug}{trailing}"))
        for label, slug in (("About", "about"), ("Contact", "contact"), ("Privacy", "privacy-policy"))
    )


def _plain_pages(b: _Builder, footer: Sequence[tuple[str, str]]) -> None:
    for label, url in footer:
        b.plain_page(url, label, f"{label} page of {b.name}, a fixture outlet for tests.")


def _wordpress(web: dict[str, Response], headlines: Iterator[tuple[str, date]]) -> FixtureOutlet:
    b = _Builder(web, "The Ledger", "http://www.wp-ledger.org")
    categories = [(name, b.url(f"/category/{name.lower()}/")) for name in ("Politics", "World", "Opinion")]
    tags = [(name, b.url(f"/tag/{_slug(name)}/")) for name in ("North Korea", "Donald Trump", "Kim Jong Un", "Vietnam")]
    authors = [(name, b.url(f"/author/{_slug(name).split('-')[0]}/")) for name in AUTHORS[:2]]
    stories = _stories(
        b,
        headlines,
        7,
        lambda slug, d, i: f"/{d:%Y/%m/%d}/{slug}/",
        categories,
        authors,
        tags,
        lambda slug, d: b.url(f"/wp-content/uploads/{d:%Y/%m}/{slug[:24].rstrip('-')}-1024x683.jpg"),
    )
    feed, comments = b.url("/feed/"), b.url("/comments/feed/")
    footer = _footer(b)
    b.chrome = Chrome(
        site_name="The Ledger",
        home=b.url("/"),
        navigation=(("Home", b.url("/")), *categories),
        footer=footer,
        head_links=(
            feed_link(feed, "The Ledger » Feed"),
            feed_link(comments, "The Ledger » Comments Feed"),
            f'<link rel="https://api.w.org/" href="{b.url("/wp-json/")}">',
            f'<link rel="stylesheet" href="{b.url("/wp-content/themes/ledger/style.css?ver=5.1")}">',
        ),
        body_class="wp-theme-ledger",
        sidebar=(("February 2019", b.url("/2019/02/")), ("March 2019", b.url("/2019/03/"))),
    )
    _publish(
        b,
        stories,
        lambda s: (
            feed_link(s.url + "feed/", f"The Ledger » {s.headline} Comments Feed"),
            f'<link rel="alternate" type="application/json" href="{b.url(f"/wp-json/wp/v2/posts/{s.position}")}">',
            f'<link rel="alternate" type="application/json+oembed" '
            f'href="{b.url("/wp-json/oembed/1.0/embed?url=" + s.url)}">',
        ),
    )
    for story in stories:
        b.listing(
            story.url + "feed/", pages.rss(story.url + "feed/", f"Comments on: {story.headline}", story.url, []), RSS
        )
    _paged(b, b.url("/"), "The Ledger", "home", stories, 5, lambda n: b.url(f"/page/{n}/"))
    for i, (name, url) in enumerate(categories):
        category_feed = url + "feed/"
        _paged(
            b,
            url,
            name,
            "section",
            _in(stories, "section_url", url),
            2,
            lambda n, url=url: f"{url}page/{n}/",
            (
                feed_link(category_feed, f"The Ledger » {name} Category Feed"),
                f'<link rel="alternate" type="application/json" href="{b.url(f"/wp-json/wp/v2/categories/{3 + i}")}">',
            ),
        )
        b.listing(
            category_feed, pages.rss(category_feed, f"The Ledger » {name}", url, _in(stories, "section_url", url)), RSS
        )
    for name, url in tags:
        b.listing_page(Listing(url, name, "tag", _in(stories, "tags", url)))
    for name, url in authors:
        b.listing_page(Listing(url, f"Author: {name}", "author", _in(stories, "author_url", url)))
    for month in (2, 3):
        in_month = [s for s in stories if s.published.month == month]
        b.listing_page(Listing(b.url(f"/2019/{month:02}/"), f"Month: {month}/2019", "archive", in_month))
    b.listing_page(
        Listing(
            b.url("/2019/02/28/"),
            "Day: February 28, 2019",
            "archive",
            [s for s in stories if s.published == date(2019, 2, 28)],
        )
    )
    _plain_pages(b, footer)
    b.listing(feed, pages.rss(feed, "The Ledger", b.url("/"), stories[:5]), RSS)
    b.listing(comments, pages.rss(comments, "Comments for The Ledger", b.url("/"), []), RSS)
    index, post, page, category = (
        b.url(f"/{n}sitemap{'_index' if not n else ''}.xml") for n in ("", "post-", "page-", "category-")
    )
    b.listing(index, pages.sitemap_index([post, page, category]), XML)
    b.listing(post, pages.urlset((s.url, s.timestamp) for s in stories), XML)
    b.listing(page, pages.urlset([(b.url("/"), None), *((url, None) for _, url in footer)]), XML)
    b.listing(category, pages.urlset((url, None) for _, url in categories), XML)
    robots = b.url("/robots.txt")
    b.other(
        robots,
        f"User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n\nSitemap: {index}\n".encode(),
        TEXT,
    )
    b.other(b.url("/wp-content/themes/ledger/style.css?ver=5.1"), b"body{font-family:serif}\n", "text/css")
    return b.outlet(
        b.url("/"),
        b.url("/"),
        robots_sitemaps=(index,),
        sitemaps=(index,),
        feeds=(feed,),
        section_feeds=tuple(url + "feed/" for _, url in categories),
        sections=tuple(url for _, url in categories),
    )


def _drupal(web: dict[str, Response], headlines: Iterator[tuple[str, date]]) -> FixtureOutlet:
    b = _Builder(web, "The Courier", "http://www.drupal-courier.org")
    sections = [(name, b.url(f"/{name.lower()}")) for name in ("World", "Politics", "Opinion")]
    tags = [
        (name, b.url(f"/taxonomy/term/{tid}"))
        for name, tid in (("North Korea", 12), ("Sanctions", 131), ("Diplomacy", 2045))
    ]
    authors = [(name, b.url(f"/user/{uid}")) for name, uid in zip(AUTHORS[2:5], (7, 23, 118), strict=True)]
    stories = _stories(
        b,
        headlines,
        6,
        lambda slug, d, i: f"/node/{1187 + 13 * i}" if i % 2 else f"/news/{slug}",
        sections,
        authors,
        tags,
        lambda slug, d: b.url(f"/sites/default/files/{d:%Y-%m}/{slug.split('-')[0]}.jpg"),
    )
    rss = b.url("/rss.xml")
    footer = _footer(b, "")
    b.chrome = Chrome(
        site_name="The Courier",
        home=b.url("/"),
        navigation=(("Home", b.url("/")), *sections),
        footer=footer,
        head_links=(f'<link rel="shortcut icon" href="{b.url("/misc/favicon.ico")}" type="image/vnd.microsoft.icon">',),
        home_head_links=(feed_link(rss, "The Courier RSS"),),
        header_extra=f'<div id="block-user-login" role="navigation"><a href="{b.url("/user/login")}">Log in</a></div>',
        body_class="html not-front",
    )
    _publish(b, stories)
    _paged(b, b.url("/"), "The Courier", "home", stories, 6, lambda n: b.url(f"/node?page={n - 1}"))
    for name, url in sections:
        _paged(b, url, name, "section", _in(stories, "section_url", url), 1, lambda n, url=url: f"{url}?page={n - 1}")
    for name, url in tags:
        b.listing_page(
            Listing(url, name, "tag", _in(stories, "tags", url), head_links=(feed_link(url + "/feed", name),))
        )
        b.listing(url + "/feed", pages.rss(url + "/feed", name, url, _in(stories, "tags", url)), RSS)
    for name, url in authors:
        b.listing_page(Listing(url, name, "author", _in(stories, "author_url", url)))
    _plain_pages(b, footer)
    b.plain_page(b.url("/user/login"), "Log in", "Log in to The Courier.")
    b.listing(rss, pages.rss(rss, "The Courier", b.url("/"), stories[:10]), RSS)
    sitemap = b.url("/sitemap.xml")
    b.listing(
        sitemap,
        pages.urlset(
            [(b.url("/"), None), *((s.url, s.timestamp[:10]) for s in stories), *((u, None) for _, u in sections)]
        ),
        XML,
    )
    drupal_robots = "".join(
        f"Disallow: {p}\n"
        for p in (
            "/includes/",
            "/misc/",
            "/modules/",
            "/profiles/",
            "/scripts/",
            "/themes/",
            "/admin/",
            "/comment/reply/",
            "/filter/tips/",
            "/node/add/",
            "/search/",
            "/user/register/",
            "/user/password/",
            "/user/login/",
            "/?q=admin/",
        )
    )
    b.other(b.url("/robots.txt"), f"#\n# robots.txt\n#\nUser-agent: *\nCrawl-delay: 10\n{drupal_robots}".encode(), TEXT)
    b.other(b.url("/misc/favicon.ico"), b"\x00\x00\x01\x00", "image/vnd.microsoft.icon")
    return b.outlet(
        b.url("/"),
        b.url("/"),
        robots_sitemaps=(),
        sitemaps=(sitemap,),
        feeds=(rss,),
        section_feeds=(),
        sections=tuple(url for _, url in sections),
    )


def _news_sitemap_only(web: dict[str, Response], headlines: Iterator[tuple[str, date]]) -> FixtureOutlet:
    b = _Builder(web, "Newsmap Daily", "http://www.newsmap-daily.org")
    sections = [
        ("World", b.url("/world/")),
        ("Asia", b.url("/world/asia/")),
        ("Politics", b.url("/politics/")),
        ("Opinion", b.url("/opinion/")),
    ]
    authors = [(name, b.url(f"/people/{_slug(name)}/")) for name in AUTHORS[3:]]
    story_sections = {"World": "world", "Asia": "world/asia", "Politics": "politics", "Opinion": "opinion"}
    stories = _stories(
        b,
        headlines,
        5,
        lambda slug, d, i: f"/{list(story_sections.values())[i % 4]}/{_slug(slug, drop_short=True)}-{d:%Y%m%d}.html",
        sections,
        authors,
        [("Korea", b.url("/topic/korea/"))],
    )
    footer = _footer(b)
    b.chrome = Chrome("Newsmap Daily", b.url("/"), (("Home", b.url("/")), *sections), footer)
    _publish(b, stories)
    b.listing_page(Listing(b.url("/"), "Newsmap Daily", "home", stories))
    for name, url in sections:
        b.listing_page(Listing(url, name, "section", _in(stories, "section_url", url)))
    b.listing_page(Listing(b.url("/topic/korea/"), "Korea", "tag", stories))
    for name, url in authors:
        b.listing_page(Listing(url, name, "author", _in(stories, "author_url", url)))
    _plain_pages(b, footer)
    news = b.url("/news-sitemap.xml")
    recent = [s for s in stories if s.published >= stories[0].published - timedelta(days=1)]  # the last two days
    assert len(recent) < len(stories), "one story must be older than the news sitemap's two days"
    b.listing(news, pages.news_sitemap("Newsmap Daily", recent), XML)
    b.other(b.url("/robots.txt"), f"User-agent: *\nDisallow: /search\n\nSitemap: {news}\n".encode(), TEXT)
    return b.outlet(
        b.url("/"),
        b.url("/"),
        robots_sitemaps=(news,),
        sitemaps=(news,),
        feeds=(),
        section_feeds=(),
        sections=tuple(url for _, url in sections),
    )


def _feeds_only(web: dict[str, Response], headlines: Iterator[tuple[str, date]]) -> FixtureOutlet:
    b = _Builder(web, "The Evening Post", "http://www.evening-post.org")
    sections = [("Politics", b.url("/politics/")), ("World", b.url("/world/"))]
    authors = [(name, b.url(f"/authors/{_slug(name)}/")) for name in AUTHORS[:3]]
    stories = _stories(
        b,
        headlines,
        5,
        lambda slug, d, i: f"/news/{d:%Y-%m-%d}/{slug}",
        sections,
        authors,
        [("Summit", b.url("/tags/hanoi-summit/"))],
    )
    rss, atom, json_feed = b.url("/rss"), b.url("/atom.xml"), b.url("/feed.json")
    footer = _footer(b)
    b.chrome = Chrome(
        "The Evening Post",
        b.url("/"),
        tuple(sections),
        footer,
        head_links=(
            feed_link(rss, "The Evening Post"),
            feed_link(atom, "The Evening Post (Atom)", "application/atom+xml"),
            feed_link(json_feed, "The Evening Post (JSON Feed)", "application/feed+json"),
        ),
    )
    _publish(b, stories)
    latest = stories[:3]
    b.listing_page(Listing(b.url("/"), "The Evening Post", "home", latest))
    section_feeds = []
    for name, url in sections:
        section_feed = url + "rss"
        section_feeds.append(section_feed)
        in_section = _in(stories, "section_url", url)
        b.listing_page(
            Listing(
                url, name, "section", in_section, head_links=(feed_link(section_feed, f"{name} – The Evening Post"),)
            )
        )
        b.listing(section_feed, pages.rss(section_feed, f"{name} – The Evening Post", url, in_section[:2]), RSS)
    b.listing_page(Listing(b.url("/tags/hanoi-summit/"), "Hanoi summit", "tag", stories))
    for name, url in authors:
        b.listing_page(Listing(url, name, "author", _in(stories, "author_url", url)))
    _plain_pages(b, footer)
    b.listing(rss, pages.rss(rss, "The Evening Post", b.url("/"), latest), RSS)
    b.listing(atom, pages.atom(atom, "The Evening Post", b.url("/"), latest), ATOM)
    b.listing(json_feed, pages.json_feed(json_feed, "The Evening Post", b.url("/"), latest), "application/feed+json")
    return b.outlet(
        b.url("/"),
        b.url("/"),
        robots_sitemaps=(),
        sitemaps=(),
        feeds=(rss, atom, json_feed),
        section_feeds=tuple(section_feeds),
        sections=tuple(url for _, url in sections),
    )


def _sections_only(web: dict[str, Response], headlines: Iterator[tuple[str, date]]) -> FixtureOutlet:
    b = _Builder(web, "The Plain Chronicle", "http://www.plain-chronicle.org")
    sections = [(name, b.url(f"/{name.lower()}")) for name in ("Politics", "World", "Culture")]
    tags = [
        (name, b.url(f"/tags/{_slug(name)}"))
        for name in ("North Korea nuclear talks", "Vietnam", "Trump administration")
    ]
    authors = [(name, b.url(f"/authors/{_slug(name)}")) for name in ("Jane Doe Smith", "Minh Tran")]
    stories = _stories(
        b, headlines, 8, lambda slug, d, i: f"/{sections[i % 3][0].lower()}/{slug}", sections, authors, tags
    )
    footer = _footer(b, "")
    b.chrome = Chrome("The Plain Chronicle", b.url("/"), (("Front page", b.url("/")), *sections), footer)
    _publish(b, stories)
    hub = b.url("/politics/our-coverage-of-the-hanoi-summit-in-one-place")
    promo = f'<p class="promo"><a href="{hub}">All our coverage of the Hanoi summit</a></p>'
    b.listing_page(Listing(b.url("/"), "The Plain Chronicle", "home", stories[:3], extra=promo))
    b.listing_page(Listing(hub, "Our coverage of the Hanoi summit", "section", stories))
    for name, url in sections:
        _paged(b, url, name, "section", _in(stories, "section_url", url), 2, lambda n, url=url: f"{url}?page={n}")
    for name, url in tags:
        b.listing_page(Listing(url, name, "tag", _in(stories, "tags", url)))
    for name, url in authors:
        b.listing_page(Listing(url, name, "author", _in(stories, "author_url", url)))
    _plain_pages(b, footer)
    b.other(b.url("/robots.txt"), b"User-agent: *\nDisallow: /admin/\n", TEXT)
    return b.outlet(
        b.url("/"),
        b.url("/"),
        robots_sitemaps=(),
        sitemaps=(),
        feeds=(),
        section_feeds=(),
        sections=tuple(url for _, url in sections),
        soft_404=True,
        decoys=frozenset({hub}),
    )


def _www_redirect(web: dict[str, Response], headlines: Iterator[tuple[str, date]]) -> FixtureOutlet:
    bare = "http://redirect-observer.org"
    b = _Builder(web, "The Observer", "http://www.redirect-observer.org")
    sections = [("World", b.url("/world")), ("Asia", b.url("/world/asia")), ("Comment", b.url("/commentisfree"))]
    authors = [(name, b.url(f"/profile/{_slug(name).replace('-', '')}")) for name in AUTHORS[1:4]]
    stories = _stories(
        b,
        headlines,
        5,
        lambda slug, d, i: f"/{('world', 'world', 'commentisfree')[i % 3]}/{d:%Y}/{d:%b}/{d.day:02}/{slug}".lower(),
        sections,
        authors,
        [("North Korea", b.url("/world/north-korea"))],
    )
    rss = b.url("/rss")
    footer = _footer(b, "")
    b.chrome = Chrome("The Observer", b.url("/"), tuple(sections), footer, head_links=(feed_link(rss, "The Observer"),))
    _publish(b, stories)
    b.listing_page(Listing(b.url("/"), "The Observer", "home", stories))
    for name, url in (*sections, ("North Korea", b.url("/world/north-korea"))):
        b.listing_page(Listing(url, name, "section", _in(stories, "section_url", url) or stories))
    for name, url in authors:
        b.listing_page(Listing(url, name, "author", _in(stories, "author_url", url)))
    _plain_pages(b, footer)
    b.listing(rss, pages.rss(rss, "The Observer", b.url("/"), stories), RSS)
    sitemap = b.url("/sitemap.xml")
    b.listing(sitemap, pages.urlset((s.url, s.timestamp[:10]) for s in stories), XML)
    named = bare + "/sitemap.xml"  # robots.txt names the bare domain, which redirects too
    b.other(b.url("/robots.txt"), f"User-agent: *\nAllow: /\nSitemap: {named}\n".encode(), TEXT)
    for url in list(web):
        if url.startswith(b.origin + "/"):
            b.redirect(bare + url[len(b.origin) :], url)
    return b.outlet(
        bare + "/",
        b.url("/"),
        robots_sitemaps=(named,),
        sitemaps=(named,),
        feeds=(rss,),
        section_feeds=(),
        sections=tuple(url for _, url in sections),
    )


def _twins(web: dict[str, Response], headlines: Iterator[tuple[str, date]]) -> tuple[FixtureOutlet, FixtureOutlet]:
    origin = "http://www.twin-press.org"
    herald = _Builder(web, "The Twin Herald", origin)
    review = _Builder(web, "The Twin Review", origin)
    outlets = []
    for b, prefix, other_prefix, other_name, path in (
        (herald, "/herald/", "/review/", "The Twin Review", lambda slug, d, i: f"/herald/{d:%Y/%m/%d}/{slug}/"),
        (
            review,
            "/review/",
            "/herald/",
            "The Twin Herald",
            lambda slug, d, i: f"/review/articles/{48213 + 7 * i}-{slug}",
        ),
    ):
        names = ("Politics", "World") if b is herald else ("Essays", "Books")
        sections = [(name, b.url(f"{prefix}{name.lower()}/")) for name in names]
        authors = [(name, b.url(f"{prefix}author/{_slug(name)}/")) for name in AUTHORS[4:]]
        tag = [("Hanoi", b.url(f"{prefix}tag/hanoi/"))]
        stories = _stories(b, headlines, 4, path, sections, authors, tag)
        feed = b.url(f"{prefix}feed/")
        footer = _footer(b)
        b.chrome = Chrome(
            b.name,
            b.url(prefix),
            (("Home", b.url(prefix)), *sections),
            footer,
            head_links=(feed_link(feed, f"{b.name} » Feed"),),
            header_extra=(
                f'<p class="sister">Also from Twin Press: <a href="{b.url(other_prefix)}">{other_name}</a> · '
                f'<a href="{b.url("/")}">All titles</a></p>'
            ),
        )
        _publish(b, stories)
        b.listing_page(Listing(b.url(prefix), b.name, "home", stories))
        for name, url in (*sections, *tag):
            b.listing_page(
                Listing(
                    url, name, "section" if "/tag/" not in url else "tag", _in(stories, "section_url", url) or stories
                )
            )
        for name, url in authors:
            b.listing_page(Listing(url, name, "author", _in(stories, "author_url", url)))
        b.listing(feed, pages.rss(feed, b.name, b.url(prefix), stories), RSS)
        sitemap = b.url(f"{prefix}sitemap.xml")
        b.listing(sitemap, pages.urlset((s.url, s.timestamp[:10]) for s in stories), XML)
        outlets.append((b, prefix, feed, sitemap, sections))
    # shared by both titles: the portal, the legal pages and robots.txt
    portal = _Builder(web, "Twin Press", origin)
    portal.chrome = Chrome(
        "Twin Press",
        portal.url("/"),
        (("The Twin Herald", portal.url("/herald/")), ("The Twin Review", portal.url("/review/"))),
        _footer(portal),
    )
    portal.plain_page(portal.url("/"), "Twin Press", "Two titles from one newsroom.")
    _plain_pages(portal, _footer(portal))
    robots = portal.url("/robots.txt")
    sitemaps = tuple(sitemap for _, _, _, sitemap, _ in outlets)
    portal.other(
        robots, ("User-agent: *\nDisallow: /wp-admin/\n" + "".join(f"Sitemap: {s}\n" for s in sitemaps)).encode(), TEXT
    )
    made = []
    for b, prefix, feed, sitemap, sections in outlets:
        b.pages |= portal.pages  # the portal and legal pages are on each title's domain, articles of neither
        b.others.add(robots)
        made.append(
            b.outlet(
                b.url(prefix),
                b.url(prefix),
                robots_sitemaps=sitemaps,
                sitemaps=(sitemap,),
                feeds=(feed,),
                section_feeds=(),
                sections=tuple(url for _, url in sections),
            )
        )
    return made[0], made[1]


@dataclass(frozen=True)
class DiscoveryWebData:
    """Every outlet, and every URL's response."""

    outlets: tuple[FixtureOutlet, ...]
    responses: dict[str, Response]
    #: The "not found" page of the outlet that never answers 404, by host.
    soft_404: dict[str, bytes]


@cache
def build() -> DiscoveryWebData:
    """The outlets and their responses (made once per process)."""
    web: dict[str, Response] = {}
    headlines = iter(HEADLINES)
    outlets = [
        _wordpress(web, headlines),
        _drupal(web, headlines),
        _news_sitemap_only(web, headlines),
        _feeds_only(web, headlines),
        _sections_only(web, headlines),
        _www_redirect(web, headlines),
        *_twins(web, headlines),
    ]
    # an outlet that moved to another's domain: its home page only redirects there (a seed list's bad input)
    web[MOVED_HOMEPAGE] = Response(301, b"", HTML, outlets[3].homepage)
    plain = next(o for o in outlets if o.soft_404)
    chrome = Chrome(plain.name, plain.scope, (), ())
    soft = {"www.plain-chronicle.org": pages.not_found_page(chrome)}
    return DiscoveryWebData(tuple(outlets), web, soft)
