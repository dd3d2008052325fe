"""Seed lists: which outlets to crawl and where their articles are listed.

A seed list is a TOML file with one ``[[outlet]]`` table per outlet::

    [[outlet]]
    name = "Common Dreams"
    homepage = "https://www.commondreams.org/"
    allowed_domains = ["commondreams.org"]      # a domain allows its subdomains
    start_urls = ["https://www.commondreams.org/news"]   # front and section pages
    feeds = ["https://www.commondreams.org/rss.xml"]     # RSS or Atom
    sitemaps = ["https://www.commondreams.org/sitemap.xml"]  # sitemap, index or news sitemap
    article_patterns = ['^https://www\\.commondreams\\.org/news/\\d{4}/']  # re.search on URLs
    follow_patterns = []   # further section pages worth following from start pages
    recheck = { max_age = "30d" }   # how known articles are checked again (archive/rechecks.py)
    path_prefix = "/news/"   # the outlet's part of a domain it shares with another outlet

Only ``name`` and ``homepage`` are required: ``allowed_domains`` then
defaults to the home page's registered domain (``www.bbc.co.uk`` gives
``bbc.co.uk``, by the Public Suffix List that ships with tldextract, never
fetched), and an outlet without ``start_urls``, ``feeds`` or ``sitemaps`` is
*discovered* by the crawler from its home page and robots.txt
(:mod:`crawler.discovery`). Without ``article_patterns``, whether a URL is an
article's is decided by its shape and then by the page
(:mod:`archive.urlshape`); given, the patterns decide as they always did.

A seed list of hundreds of outlets need not be TOML: a ``.txt`` file holds
one home page per line, optionally followed by the outlet's name
(``https://www.example.com/ Example News``; ``#`` starts a comment), and a
``.csv`` file one per row (``homepage,name``, a header row optional).

Each capture belongs to the outlet whose domains own its host most
specifically (``news.example.com`` before ``example.com``), then to the one
whose ``path_prefix`` its path starts with (:func:`owner`); two outlets
declaring the same domain without distinct path prefixes could not be told
apart, and are refused.

A top-level ``[recheck]`` table sets the recheck policy of every outlet of the
list; an outlet's own ``recheck`` table overrides it field by field.

Everything is checked before a crawl starts, and a mistake is reported with
the file and the field (``seeds/x.toml: outlet[2].feeds[0]: ...``), because a
typo found after an hour of crawling costs the hour.

The patterns are Python regular expressions, matched against every link the
spider sees, on the reactor thread: a pattern that backtracks
catastrophically (``(a|aa)+$``) would freeze the whole crawl on one link. So
they are compiled with the ``regex`` module, whose matches can be given a
time limit (:data:`PATTERN_TIMEOUT`; a match that runs out of time counts as
no match, and is counted and logged), and validation refuses patterns that
are absurdly long, nested or repeated, or that already run out of time on
a few test strings built from their own characters.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import regex

from archive.configfile import ConfigFileError, _read_text, read_toml
from archive.rechecks import PolicyError, RecheckPolicy
from archive.urls import UnparseableUrl, shown, split_url

if TYPE_CHECKING:  # imported by the first registered domain asked for, not by every process reading seeds
    import tldextract

logger = logging.getLogger(__name__)

_LIST_FIELDS = ("start_urls", "feeds", "sitemaps")
#: How a seed URL is read (sitemap, feed, section page, or a home page to discover the others from),
#: in the order an outlet's seeds are queued.
SEED_KINDS = ("sitemap", "feed", "section", "home")
#: The kind of seed message naming a known article to recheck (a distributed crawl's, archive/frontier.py).
RECHECK_KIND = "recheck"
_KNOWN_FIELDS = {
    "name",
    "homepage",
    "allowed_domains",
    "article_patterns",
    "follow_patterns",
    "recheck",
    "path_prefix",
    *_LIST_FIELDS,
}
#: Seed list formats by file suffix: TOML tables, or one home page per line of text or CSV.
PLAIN_SUFFIXES = (".txt", ".csv")
#: Longest path prefix accepted.
MAX_PREFIX_LENGTH = 200
#: Longest outlet name; the database column (``outlets.name``) is declared this long, so a longer
#: name, which would fail every crawl on PostgreSQL, is refused here first.
MAX_NAME_LENGTH = 200
#: A domain name: dot-separated labels of letters, digits and hyphens, at least two of them, at most 253 characters.
_DOMAIN = re.compile(r"(?=.{1,253}\Z)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")

#: Longest time, in seconds, one pattern may take to decide on one URL; a slower match counts as no match.
#: A sound URL pattern decides in microseconds.
PATTERN_TIMEOUT = 0.05
#: Longest pattern accepted, in characters.
MAX_PATTERN_LENGTH = 1000
#: Deepest nesting of groups in a pattern.
MAX_PATTERN_DEPTH = 20
#: Largest pattern once its counted repetitions are written out (``(a{100}){100}`` is 10,000): compiling
#: ``a{4294967294}`` takes all memory, ``(a{1000}){1000}`` more than half a second.
MAX_PATTERN_SIZE = 10_000
#: How long a test string for catastrophic backtracking is: a run of one character, then one that ends it.
_PROBE_LENGTH = 64
_QUANTIFIER = re.compile(r"\{(\d*)(?:,(\d*))?\}")
_FUZZY = re.compile(r"\{[^{}]*[<=>][^{}]*\}")


class SeedError(ConfigFileError):
    """A seed list that cannot be used, with the file and field at fault."""

    kind = "seed file"


@dataclass(frozen=True)
class Outlet:
    """One news outlet and the places its articles are listed.

    Patterns may be given as sources or compiled; they are kept compiled by
    :func:`compile_pattern`, so that every match has a time limit.
    """

    name: str
    allowed_domains: tuple[str, ...]
    article_patterns: tuple[regex.Pattern[str], ...]
    homepage: str | None = None
    start_urls: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    follow_patterns: tuple[regex.Pattern[str], ...] = ()
    #: How the outlet's known articles are checked again for edits.
    recheck: RecheckPolicy = RecheckPolicy()
    #: The outlet's part of its domains (``/herald/``), when another outlet shares them; None: all of them.
    path_prefix: str | None = None
    #: How many matches of each pattern (by source) ran out of time: a pattern to fix.
    pattern_timeouts: Counter[str] = field(default_factory=Counter, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("article_patterns", "follow_patterns"):
            patterns = getattr(self, name)
            if not all(isinstance(p, regex.Pattern) for p in patterns):
                compiled = tuple(compile_pattern(p if isinstance(p, str) else p.pattern) for p in patterns)
                object.__setattr__(self, name, compiled)

    def owns(self, url: str) -> bool:
        """Whether the URL's host is one of this outlet's domains or their subdomains."""
        return self.owns_host(urlsplit(url).hostname or "")

    def owns_host(self, host: str) -> bool:
        return host_in_domains(host, self.allowed_domains)

    def is_article(self, url: str) -> bool:
        return self.owns(url) and any(self._search(p, url) for p in self.article_patterns)

    @property
    def discovered(self) -> bool:
        """Whether the crawler finds the outlet's sitemaps, feeds and sections from its home page:
        none were given (:mod:`crawler.discovery`)."""
        return self.homepage is not None and not (self.start_urls or self.feeds or self.sitemaps)

    @property
    def classified(self) -> bool:
        """Whether its articles are told by their URLs' shape and pages' evidence (no ``article_patterns``)."""
        return not self.article_patterns

    def is_section(self, url: str) -> bool:
        return self.owns(url) and any(self._search(p, url) for p in self.follow_patterns)

    def _search(self, pattern: regex.Pattern[str], url: str) -> bool:
        """Whether the pattern matches the URL within :data:`PATTERN_TIMEOUT` (no match if it takes longer)."""
        try:
            return pattern.search(url, timeout=PATTERN_TIMEOUT) is not None
        except TimeoutError:
            if not self.pattern_timeouts[pattern.pattern]:
                logger.warning(
                    "outlet %r: pattern %r took over %s s on %s; taken as no match (further timeouts not logged)",
                    self.name,
                    pattern.pattern,
                    PATTERN_TIMEOUT,
                    url,
                )
            self.pattern_timeouts[pattern.pattern] += 1
            return False

    def seeds(self) -> Iterator[tuple[str, str]]:
        """The outlet's seed URLs as (kind, URL), discovery documents first (see ``SEED_KINDS``);
        an outlet to be discovered has one, its home page."""
        home = (self.homepage,) if self.discovered and self.homepage else ()
        for kind, urls in zip(SEED_KINDS, (self.sitemaps, self.feeds, self.start_urls, home), strict=True):
            for url in urls:
                yield kind, url

    def describe(self) -> dict[str, Any]:
        """The outlet as plain data, as the archive records it in each WARC's warcinfo."""
        described = {
            "name": self.name,
            "homepage": self.homepage,
            "allowed_domains": list(self.allowed_domains),
            "recheck": self.recheck.describe(),
        }
        if self.path_prefix is not None:
            described["path_prefix"] = self.path_prefix
        return described


@dataclass(frozen=True)
class SeedList:
    """A validated seed file."""

    path: Path
    outlets: tuple[Outlet, ...]

    @property
    def allowed_domains(self) -> list[str]:
        return sorted({d for o in self.outlets for d in o.allowed_domains})

    def owner(self, url: str) -> Outlet | None:
        """The outlet a URL belongs to (:func:`owner`), None if none owns it or it cannot be parsed."""
        try:
            parts = split_url(url)
        except UnparseableUrl:
            return None
        return owner(parts.host, parts.path, ((o, o.allowed_domains, o.path_prefix) for o in self.outlets))


@dataclass
class Discovered:
    """What discovery found for an outlet, to be written as a seed list for review (:func:`discovered_seeds`)."""

    outlet: Outlet
    sitemaps: list[str] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    #: The shapes of the article links and listed URLs found (:func:`archive.urlshape.url_shape`), with how
    #: many URLs had each and one of them.
    shapes: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    #: Why nothing was found ("homepage 403"), if nothing was.
    problem: str | None = None


def discovered_seeds(found: Iterable[Discovered], source: str) -> str:
    """A TOML seed list of what discovery found, for a researcher to review, edit and crawl.

    Each outlet keeps its name, home page, domains and path prefix, and
    gets the sitemaps, feeds and sections (as ``start_urls``) found; the
    article URL shapes, with counts and an example each, are comments (the
    crawl classifies URLs itself; they say what it will take). An outlet where
    nothing was found keeps only its home page, under a comment saying why.
    """
    lines = [f"# Outlets discovered from their home pages ({source}): review before crawling.", ""]
    for item in found:
        outlet = item.outlet
        lines.append("[[outlet]]")
        lines.append(f"name = {_toml(outlet.name)}")
        if outlet.homepage is not None:
            lines.append(f"homepage = {_toml(outlet.homepage)}")
        lines.append(f"allowed_domains = {_toml(list(outlet.allowed_domains))}")
        if outlet.path_prefix is not None:
            lines.append(f"path_prefix = {_toml(outlet.path_prefix)}")
        if item.problem:
            lines.append(_comment(f"# no articles found: {item.problem}"))
        for name, urls in (("sitemaps", item.sitemaps), ("feeds", item.feeds), ("start_urls", item.sections)):
            if urls:
                lines.append(f"{name} = [")
                lines += [f"    {_toml(url)}," for url in urls]
                lines.append("]")
        if item.shapes:
            lines.append("# article URL shapes found: URLs of that shape, an example")
            for shape, count in item.shapes.most_common():
                lines.append(_comment(f"#   {shape}  {count}  {item.examples.get(shape, '')}"))
        lines.append("")
    return "\n".join(lines)


def _comment(text: str) -> str:
    """A comment line: control characters (a shape may hold a decoded ``%0A``) shown as ``?``."""
    return "".join(c if c.isprintable() else "?" for c in text)


def _toml(value: str | list[str]) -> str:
    """A TOML string or array of strings (JSON's string escapes are TOML's)."""
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def host_in_domains(host: str, domains: tuple[str, ...] | list[str]) -> bool:
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in domains)


_Key = TypeVar("_Key")


def owner(host: str, path: str, claims: Iterable[tuple[_Key, Sequence[str], str | None]]) -> _Key | None:
    """Which claim (key, domains, path prefix) owns a URL's host and path most specifically.

    The longest domain that is the host or one of its parents wins
    (``news.example.com`` before ``example.com``); among equal domains, the
    longest path prefix the path starts with, a claim without prefix owning
    every path. A tie goes to the first claim. The crawler (naming the outlet
    in the WARC's metadata records) and the database (:mod:`archive.db.ingester`)
    both decide by it, so the two agree.
    """
    host = host.lower().rstrip(".")
    path = path or "/"
    best: tuple[int, int] | None = None
    found: _Key | None = None
    for key, domains, prefix in claims:
        if prefix is not None and not path.startswith(prefix):
            continue
        matched = max((len(d) for d in domains if host == d or host.endswith("." + d)), default=-1)
        if matched < 0:
            continue
        rank = (matched, len(prefix or ""))
        if best is None or rank > best:
            best, found = rank, key
    return found


def registered_domain(host: str) -> str | None:
    """The domain a host is registered under (``bbc.co.uk`` for ``www.bbc.co.uk``), by the Public Suffix
    List bundled with tldextract (never fetched); None for an IP address or a name under no public suffix."""
    return _extractor()(host).top_domain_under_public_suffix or None


@cache
def _extractor() -> tldextract.TLDExtract:
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False)


def compile_pattern(source: str) -> regex.Pattern[str]:
    """An article or follow pattern, compiled; ``ValueError`` if it is invalid, absurd or catastrophically slow."""
    risky = _check_shape(source)
    try:
        compiled = regex.compile(source)
    except (regex.error, OverflowError, RecursionError, ValueError) as e:
        raise ValueError(f"not a valid regular expression: {e}") from None
    for probe in _probes(source) if risky else ():
        try:
            compiled.search(probe, timeout=PATTERN_TIMEOUT)
        except TimeoutError:
            raise ValueError(
                f"backtracks catastrophically: over {PATTERN_TIMEOUT} s on the test string {probe!r}"
            ) from None
    return compiled


def load_seeds(path: str | os.PathLike[str]) -> SeedList:
    """Read and validate a seed list (TOML, or text or CSV of home pages); raise :class:`SeedError`
    naming file and field."""
    path = Path(path)
    if path.suffix.lower() in PLAIN_SUFFIXES:
        return _checked(path, _plain_outlets(path))
    data = read_toml(path, SeedError)
    unknown = set(data) - {"outlet", "recheck"}
    if unknown:
        raise SeedError(path, sorted(unknown)[0], "unknown top-level key (expected [[outlet]] tables and [recheck])")
    tables = data.get("outlet")
    if not isinstance(tables, list) or not tables:
        raise SeedError(path, "outlet", "no [[outlet]] tables")
    policy = _policy(path, "recheck", data, RecheckPolicy())
    outlets = [(f"outlet[{i}]", _outlet(path, f"outlet[{i}]", t, policy)) for i, t in enumerate(tables)]
    return _checked(path, outlets)


def _checked(path: Path, outlets: list[tuple[str, Outlet]]) -> SeedList:
    """The seed list, once no two outlets share a name, nor a domain without distinct path prefixes."""
    first: dict[str, str] = {}
    for where, outlet in outlets:
        if (earlier := first.setdefault(outlet.name, where)) != where:
            raise SeedError(path, f"{where}.name", f"duplicate outlet name {outlet.name!r} (also {earlier})")
    claimed: dict[tuple[str, str | None], tuple[str, str]] = {}
    for where, outlet in outlets:
        for domain in outlet.allowed_domains:
            other = claimed.setdefault((domain, outlet.path_prefix), (where, outlet.name))
            if other != (where, outlet.name):
                raise SeedError(
                    path,
                    f"{where}.allowed_domains",
                    f"{outlet.name!r} and {other[1]!r} ({other[0]}) both declare {domain!r}"
                    + (f" with path_prefix {outlet.path_prefix!r}" if outlet.path_prefix else "")
                    + ": captures there could belong to either; give each a distinct path_prefix",
                )
    return SeedList(path=path, outlets=tuple(outlet for _, outlet in outlets))


def _plain_outlets(path: Path) -> list[tuple[str, Outlet]]:
    """Outlets from a text or CSV file of home pages, one per line, the name optional."""
    text = _read_text(path, SeedError)
    rows: Iterable[list[str]]
    if path.suffix.lower() == ".csv":
        rows = csv.reader(io.StringIO(text))
    else:
        rows = (line.split("#", 1)[0].split(None, 1) for line in text.splitlines())
    outlets = []
    for number, row in enumerate(rows, start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if number == 1 and cells[0].lower() == "homepage":  # a CSV header row
            continue
        where = f"line {number}"
        if len(cells) > 2:
            raise SeedError(path, where, f"expected a home page and an optional name, found {len(cells)} fields")
        table = {"homepage": cells[0], "name": cells[1] if len(cells) > 1 and cells[1] else _name_of(cells[0])}
        outlets.append((where, _outlet(path, where, table, RecheckPolicy())))
    if not outlets:
        raise SeedError(path, "", "no home pages (one per line, optionally followed by the outlet's name)")
    return outlets


def _name_of(homepage: str) -> str:
    """An outlet's name when a plain seed list gives none: its home page's host, without ``www.``."""
    try:
        return split_url(homepage).host.removeprefix("www.") or homepage
    except UnparseableUrl:
        return homepage


def _policy(path: Path, field: str, table: dict[str, Any], base: RecheckPolicy) -> RecheckPolicy:
    key = field.rsplit(".", 1)[-1]
    if key not in table:
        return base
    try:
        return RecheckPolicy.from_table(table[key], base)
    except PolicyError as e:
        where = field if e.field == "recheck" else f"{field}.{e.field}"
        raise SeedError(path, where, e.message) from None


def _outlet(path: Path, where: str, table: Any, policy: RecheckPolicy) -> Outlet:
    if not isinstance(table, dict):
        raise SeedError(path, where, "must be a table")
    unknown = set(table) - _KNOWN_FIELDS
    if unknown:
        field = sorted(unknown)[0]
        raise SeedError(path, f"{where}.{field}", f"unknown field (known: {', '.join(sorted(_KNOWN_FIELDS))})")
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SeedError(path, f"{where}.name", "required, a non-empty string")
    if len(name.strip()) > MAX_NAME_LENGTH:
        raise SeedError(path, f"{where}.name", f"longer than {MAX_NAME_LENGTH} characters")
    homepage = table.get("homepage")
    if homepage is not None and not isinstance(homepage, str):
        raise SeedError(path, f"{where}.homepage", "must be a string")
    domains = tuple(d.lower() for d in _strings(path, f"{where}.allowed_domains", table))
    if not domains:
        domains = _default_domains(path, where, homepage)
    for i, d in enumerate(domains):
        if not _DOMAIN.match(d):
            raise SeedError(
                path,
                f"{where}.allowed_domains[{i}]",
                f"not a domain name with at least two labels: {d!r} (a bare top-level domain would allow every "
                "site under it; give the outlet's own domain, e.g. 'example.com')",
            )
    urls: dict[str, tuple[str, ...]] = {}
    for field in _LIST_FIELDS:
        urls[field] = _strings(path, f"{where}.{field}", table)
        for i, url in enumerate(urls[field]):
            _check_url(path, f"{where}.{field}[{i}]", url, domains)
    if homepage is not None:
        _check_url(path, f"{where}.homepage", homepage, domains)
    elif not any(urls.values()):
        raise SeedError(path, f"{where}.homepage", "an outlet needs a homepage (or start_urls, feeds or sitemaps)")
    prefix = _path_prefix(path, f"{where}.path_prefix", table.get("path_prefix"))
    if prefix is not None and homepage is not None and not (split_url(homepage).path or "/").startswith(prefix):
        raise SeedError(path, f"{where}.homepage", f"not under the outlet's path_prefix {prefix!r}: {shown(homepage)}")
    return Outlet(
        name=name.strip(),
        homepage=homepage,
        allowed_domains=domains,
        article_patterns=_patterns(path, f"{where}.article_patterns", table),
        follow_patterns=_patterns(path, f"{where}.follow_patterns", table),
        recheck=_policy(path, f"{where}.recheck", table, policy),
        path_prefix=prefix,
        **urls,
    )


def _default_domains(path: Path, where: str, homepage: str | None) -> tuple[str, ...]:
    """The home page's registered domain, for an outlet that names no ``allowed_domains``."""
    if homepage is None:
        raise SeedError(path, f"{where}.allowed_domains", "required when no homepage is given")
    try:
        host = split_url(homepage).host
    except UnparseableUrl as e:
        raise SeedError(path, f"{where}.homepage", f"not a usable URL ({e.reason}): {shown(homepage)}") from None
    domain = registered_domain(host)
    if domain is None:
        raise SeedError(
            path,
            f"{where}.allowed_domains",
            f"the home page's host {host!r} has no registered domain (an IP address or a private name): "
            "give allowed_domains",
        )
    return (domain,)


def _path_prefix(path: Path, field: str, value: Any) -> str | None:
    """A path prefix, ending in ``/`` (``/herald`` would also own ``/heraldry/``)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith("/") or len(value) > MAX_PREFIX_LENGTH:
        raise SeedError(path, field, f"must be a path starting with '/', at most {MAX_PREFIX_LENGTH} characters")
    if any(c.isspace() or c in "?#" for c in value):
        raise SeedError(path, field, f"a path without whitespace, query or fragment: {value!r}")
    return value if value.endswith("/") else value + "/"


def _strings(path: Path, field: str, table: dict[str, Any]) -> tuple[str, ...]:
    key = field.rsplit(".", 1)[1]
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SeedError(path, field, "must be a list of strings")
    return tuple(value)


def _patterns(path: Path, field: str, table: dict[str, Any]) -> tuple[regex.Pattern[str], ...]:
    compiled = []
    for i, source in enumerate(_strings(path, field, table)):
        try:
            compiled.append(compile_pattern(source))
        except ValueError as e:
            raise SeedError(path, f"{field}[{i}]", str(e)) from None
    return tuple(compiled)


def _check_shape(source: str) -> bool:
    """Refuse a pattern too long, too deeply nested, or too large once its counted repetitions are written out.

    Return whether it could backtrack catastrophically: whether a repeated
    group holds a repetition or an alternation (``(a+)+``, ``(a|aa)*``).
    A scan, not a parser: it over-counts (``(?:`` counts as three
    characters), and that is fine for a bound.
    """
    if len(source) > MAX_PATTERN_LENGTH:
        raise ValueError(f"longer than {MAX_PATTERN_LENGTH} characters")
    groups = [[0, False]]  # for each open group: its written-out size so far, whether it holds | or a repetition
    last, last_varies = 0, False  # the item a quantifier repeats: its size, whether it holds | or a repetition
    risky = False
    i, end = 0, len(source)
    while i < end:
        char = source[i]
        size, varies = 1, False
        if char == "\\":
            i += 2
            if i < end and source[i - 1] in "pPNx" and source[i] == "{":  # \p{L}, \N{name}, \x{263a}
                closing = source.find("}", i)
                i = end if closing < 0 else closing + 1
        elif char == "[":
            i += 1
            i += source.startswith("^", i)
            i += source.startswith("]", i)
            while i < end and source[i] != "]":
                i += 2 if source[i] == "\\" else 1
            i += 1
        elif char == "(":
            groups.append([0, False])
            if len(groups) > MAX_PATTERN_DEPTH + 1:
                raise ValueError(f"groups nested more than {MAX_PATTERN_DEPTH} deep")
            i += 3 if source.startswith("?", i + 1) else 1  # (?: (?= (?P<name>: the ? repeats nothing
            last, last_varies = 0, False
            continue
        elif char == ")" and len(groups) > 1:
            size, varies = groups.pop()
            groups[-1][1] = groups[-1][1] or varies
            i += 1
        elif char in "*+?" or (
            char == "{" and (quantifier := _QUANTIFIER.match(source, i)) and any(quantifier.groups())
        ):
            count = 2  # *, + and ? are bounded by the URL, not written out: as if twice
            if char == "{":
                count = max(int(n) if len(n) < 10 else 10**10 for n in quantifier.groups() if n)
                i = quantifier.end()
            else:
                i += 1
            risky = risky or last_varies
            groups[-1][0] += last * (count - 1)
            groups[-1][1] = True
            last, last_varies = last * count, True
            size = 0
        elif char == "{" and _FUZZY.match(source, i):
            raise ValueError("fuzzy matching ({e<=1}) is not supported in URL patterns")
        else:
            groups[-1][1] = groups[-1][1] or char == "|"
            i += 1
        if size:
            groups[-1][0] += size
            last, last_varies = size, varies
        if groups[-1][0] > MAX_PATTERN_SIZE:
            raise ValueError(
                f"repeats too much: more than {MAX_PATTERN_SIZE} characters once repetitions are written out"
            )
    return risky


def _probes(source: str) -> Iterator[str]:
    """Test strings for catastrophic backtracking: a run of one of the pattern's characters, then one ending it.

    ``(a|aa)+$`` or ``(\\d+)+/`` take exponential time on ``aaa…a!`` or
    ``111…1!``; a pattern that is fast on these is not proven safe, which is
    why every match has a time limit too.
    """
    characters = dict.fromkeys(c for c in source if c.isalnum() or c in "/-._~%:=&?")
    characters.update(dict.fromkeys("a1/-."))
    for character in characters:
        yield "https://" + character * _PROBE_LENGTH + "\x7f"


def _check_url(path: Path, field: str, url: str, domains: tuple[str, ...]) -> None:
    try:
        parts = split_url(url)  # length (Scrapy would drop a longer one unseen), port, host, control characters
    except UnparseableUrl as e:
        raise SeedError(path, field, f"not a usable URL ({e.reason}): {shown(url)}") from None
    if parts.scheme not in ("http", "https"):
        raise SeedError(path, field, f"not an absolute http(s) URL: {shown(url)}")
    if any(c.isspace() for c in url):
        raise SeedError(path, field, f"contains whitespace: {shown(url)}")
    if not host_in_domains(parts.host, domains):
        raise SeedError(path, field, f"host {parts.host!r} is outside allowed_domains {list(domains)}")
