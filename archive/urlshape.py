"""Whether a URL is an article's, by evidence rather than by a pattern someone wrote for one outlet.

A seed list of hundreds of outlets cannot carry a hand-written regular
expression per outlet, and a wrong one silently archives nothing. Article
URLs share a few traits across publishing systems: a date in the path
(``/2019/02/28/``, ``/2019/feb/28/``, ``-20190228``), a slug of several words,
a numeric or hexadecimal ID (``/node/123``, ``-8f1a2c3b4d5e``). Pages that are
not articles announce themselves too: tag, category and author pages,
pagination, search, feeds and sitemaps, static files, logins and legal
pages, date archives, the home page. :func:`classify_url` weighs these and
returns a :class:`UrlVerdict` that says what it saw, so a researcher can read
why a link was or was not taken; courlan's navigation and crawlability
filters (the ones trafilatura's crawler uses) are a second opinion.

The URL is only a first guess. Once the page is fetched, :func:`article_decision`
combines the verdict with what the page says about itself (``og:type``,
JSON-LD ``@type``, a publication date, the length of its text) into the
decision stored with the capture.

:func:`url_shape` generalises a URL's path (``/{yyyy}/{mm}/{dd}/{slug}``,
``/node/{id}``), so the shapes of URLs proven to be articles on an outlet can
be counted and its links prioritised by them on the next crawl.

Everything here is a function of the URL string alone, bounded by
:data:`archive.urls.MAX_URL_LENGTH` (through :func:`archive.urls.split_url`,
which raises :class:`archive.urls.UnparseableUrl` for what it refuses) and by
:data:`MAX_SEGMENTS`; verdicts are cached, since the same navigation links
recur on every page of an outlet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, unquote

from courlan.filters import is_navigation_page, is_not_crawlable, type_filter

from archive.urls import split_url

__all__ = [
    "ARTICLE_SCORE",
    "ARTICLE_TYPES",
    "KINDS",
    "UrlVerdict",
    "article_decision",
    "classify_url",
    "url_shape",
]

#: What a URL is taken for: an article, or one of the kinds of page that are not.
KINDS = (
    "article",
    "uncertain",  # some evidence of an article, not enough
    "section",  # a short path of one or two words: /politics/, /world-news/
    "home",
    "taxonomy",  # tag, category, author, topic pages
    "pagination",
    "archive",  # a date and nothing after it: /2019/02/
    "search",
    "listing",  # feeds and sitemaps
    "asset",  # images, stylesheets, scripts, documents
    "service",  # logins, subscriptions, legal and contact pages, non-web schemes
    "structure",  # what courlan's type filter sets aside (WordPress internals, galleries, uploads)
)
#: The score from which a URL is taken for an article's.
ARTICLE_SCORE = 2.0
#: Path segments read; deeper ones count for the depth but are not looked at.
MAX_SEGMENTS = 16
#: Query parameters read.
MAX_PARAMETERS = 8
#: A literal segment longer than this is shown as ``{text}`` in a shape.
MAX_LITERAL = 40
#: URLs whose verdicts are remembered.
CACHE_SIZE = 1 << 14

#: schema.org types (and subtypes) that declare a page to be one article.
ARTICLE_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "AnalysisNewsArticle",
        "AskPublicNewsArticle",
        "BackgroundNewsArticle",
        "OpinionNewsArticle",
        "ReportageNewsArticle",
        "ReviewNewsArticle",
        "BlogPosting",
        "LiveBlogPosting",
        "Report",
        "SatiricalArticle",
        "ScholarlyArticle",
        "TechArticle",
    }
)
#: schema.org page types that declare a page to be something else than an article.
NON_ARTICLE_TYPES = frozenset(
    {"CollectionPage", "ProfilePage", "SearchResultsPage", "AboutPage", "ContactPage", "FAQPage", "CheckoutPage"}
)
#: Body text (characters) a page declared an article needs; one that declares nothing needs ``LONG_TEXT``.
MIN_TEXT = 200
LONG_TEXT = 1000
#: URL kinds that only a JSON-LD article type on the page itself can overrule.
LISTING_KINDS = frozenset(
    {"home", "taxonomy", "pagination", "archive", "search", "listing", "asset", "service", "structure"}
)

_TAXONOMY = frozenset(
    "tag tags tagged category categories topic topics author authors user users profile profiles taxonomy term "
    "label labels keyword keywords schlagwort kategorie autor autoren thema themen".split()
)
_PAGINATION = frozenset("page paged pages seite pagina".split())
_PAGE_PARAMETERS = frozenset("page paged pg start offset seite pagina".split())
_SEARCH = frozenset("search suche buscar recherche".split())
_SEARCH_PARAMETERS = frozenset("s q query search keys searchterm".split())
_FEED = frozenset("feed feeds rss rss2 atom rdf sitemap sitemaps".split())
_FEED_EXTENSIONS = frozenset("xml rss atom rdf json".split())
_PAGE_EXTENSIONS = frozenset("html htm shtml php asp aspx jsp cfm".split())
_ASSET_EXTENSIONS = frozenset(
    "jpg jpeg png gif webp avif svg ico bmp tif tiff css js mjs map pdf doc docx xls xlsx ppt pptx zip gz tar rar "
    "mp3 mp4 m4a m4v ogg oga ogv webm mov avi flv wav aac woff woff2 ttf eot otf swf iso exe dmg apk txt csv".split()
)
_SERVICE = frozenset(
    "login logout signin sign-in signup sign-up register account my-account subscribe subscription subscriptions "
    "newsletter newsletters donate donation donations contact contact-us about about-us privacy privacy-policy "
    "terms terms-of-service terms-of-use terms-and-conditions cookies cookie-policy impressum imprint advertise "
    "advertising careers cart checkout wp-admin wp-login.php".split()
)
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )  # fmt: skip
    for name in names
}
#: Runs of letters and digits, and what separates them.
_TOKENS = re.compile(r"[^\W_]+|[\W_]+")
_HEX = frozenset("0123456789abcdef")
_EXTENSIONS = _PAGE_EXTENSIONS | _FEED_EXTENSIONS | _ASSET_EXTENSIONS
_INDEX_NAMES = frozenset("index default home".split())


@dataclass(frozen=True)
class UrlVerdict:
    """What a URL looks like: an article's or not, the score, the kind of page, and why."""

    is_article: bool
    score: float
    kind: str
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The verdict as JSON-ready data."""
        return {"is_article": self.is_article, "score": self.score, "kind": self.kind, "reasons": list(self.reasons)}


@dataclass
class _Segment:
    """One path segment as read: its tokens (text, kind) and what it is as a whole."""

    text: str
    tokens: list[tuple[str, str]]  # kind: word, num, hex, sep
    extension: str = ""
    role: str = ""  # yyyy, mm, mon, dd, date (a whole-segment date), id, or '' for text

    @property
    def words(self) -> list[str]:
        return [text for text, kind in self.tokens if kind == "word"]


def classify_url(url: str) -> UrlVerdict:
    """The verdict on an absolute URL; :class:`archive.urls.UnparseableUrl` if it cannot be parsed."""
    return _classify(url)


def url_shape(url: str) -> str:
    """The URL's path and query keys with dates, IDs and slugs generalised: ``/news/{yyyy}/{mm}/{dd}/{slug}``.

    :class:`archive.urls.UnparseableUrl` if the URL cannot be parsed.
    """
    return _shape(url)


@lru_cache(maxsize=CACHE_SIZE)
def _shape(url: str) -> str:
    parts = split_url(url)
    segments, more = _segments(parts.path)
    shape = "/" + "/".join(_segment_shape(segment) for segment in segments)
    if more:
        shape += "/…"
    parameters = _parameters(parts.query)
    if parameters:
        shape += "?" + "&".join(f"{key}={_value_shape(value)}" for key, value in sorted(parameters))
    return shape


@lru_cache(maxsize=CACHE_SIZE)
def _classify(url: str) -> UrlVerdict:
    parts = split_url(url)
    if parts.scheme not in ("http", "https"):
        return _not_article("service", f"not a web page ({parts.scheme}:)")
    segments, more = _segments(parts.path)
    parameters = _parameters(parts.query)
    names = [segment.text.lower() for segment in segments]
    keys = {key.lower() for key, _ in parameters}
    last = segments[-1] if segments else None
    if verdict := _listing_or_asset(names, last, keys):
        return verdict
    if found := next((name for name in names if name in _SEARCH), None) or next(iter(keys & _SEARCH_PARAMETERS), None):
        return _not_article("search", f"search page ({found})")
    if verdict := _pagination(names, parameters):
        return verdict
    if names and (names[0] in _SERVICE or names[-1] in _SERVICE):
        return _not_article("service", f"service page (/{names[0] if names[0] in _SERVICE else names[-1]})")
    if found := next((name for name in names[-2:] if name in _TAXONOMY), None):
        return _not_article("taxonomy", f"taxonomy page (/{found}/)")
    if len(segments) <= 1 and not any(key.endswith("id") for key in keys):
        if not segments or (segments[0].extension and segments[0].text.rpartition(".")[0].lower() in _INDEX_NAMES):
            return _not_article("home", "home page")
    start = _first_dated(segments)
    if start < len(segments) and not more and start + _dated(segments) == len(segments):
        return _not_article("archive", "date archive (a date and nothing after it)")
    # courlan's second opinion (trafilatura's crawler uses these filters)
    if is_not_crawlable(parts.url):
        return _not_article("service", "courlan: not crawlable (login, contact, imprint)")
    if is_navigation_page(parts.url):
        return _not_article("taxonomy", "courlan: navigation page")
    if not type_filter(parts.url, strict=True):
        return _not_article("structure", "courlan: site structure or file type")
    return _scored(segments, more, parameters)


def _not_article(kind: str, reason: str) -> UrlVerdict:
    return UrlVerdict(False, 0.0, kind, (reason,))


def _listing_or_asset(names: list[str], last: _Segment | None, keys: set[str]) -> UrlVerdict | None:
    """Feeds and sitemaps (by a segment or the extension), static files (by the extension)."""
    if found := next((name for name in names if name in _FEED), None):
        return _not_article("listing", f"feed or sitemap (/{found})")
    if "feed" in keys:
        return _not_article("listing", "feed (?feed=)")
    if last is not None and last.extension:
        if last.extension in _FEED_EXTENSIONS:
            return _not_article("listing", f"feed or sitemap (.{last.extension})")
        if "sitemap" in last.text.lower():
            return _not_article("listing", "sitemap")
        if last.extension in _ASSET_EXTENSIONS:
            return _not_article("asset", f"static file (.{last.extension})")
    return None


def _pagination(names: list[str], parameters: list[tuple[str, str]]) -> UrlVerdict | None:
    for name, following in zip(names, names[1:], strict=False):
        if name in _PAGINATION and following.isdigit():
            return _not_article("pagination", f"page {following} of a listing (/{name}/{following})")
    for key, value in parameters:
        if key.lower() in _PAGE_PARAMETERS and value.isdigit():
            return _not_article("pagination", f"page {value} of a listing (?{key}=)")
    return None


def _scored(segments: list[_Segment], more: bool, parameters: list[tuple[str, str]]) -> UrlVerdict:
    """The evidence for an article in what is left once every kind of non-article page is ruled out."""
    score = 0.0
    reasons: list[str] = []
    dated = _first_dated(segments)
    if dated < len(segments):
        date = "/".join(segment.text for segment in segments[dated : dated + _dated(segments)])
        if segments[dated].role == "date" or _dated(segments) >= 2:
            score += 2
            reasons.append(f"date in the path ({date})")
        else:
            score += 1
            reasons.append(f"year in the path ({date})")
    elif any(_in_segment_date(segment) for segment in segments):
        score += 2
        reasons.append("date in a slug")
    words = max((len([w for w in segment.words if len(w) >= 3]) for segment in segments), default=0)
    if words >= 4:
        score += 2
        reasons.append(f"slug of {words} words")
    elif words == 3:
        score += 1
        reasons.append("slug of 3 words")
    if ident := next((segment.text for segment in segments if segment.role == "id" and len(segment.text) >= 3), ""):
        score += 2
        reasons.append(f"numeric ID ({ident})")
    elif ident := _id_in_slug(segments):
        score += 1
        reasons.append(f"ID in a slug ({ident})")
    for key, value in parameters:
        if key.lower().endswith("id") and value.isdigit() and len(value) >= 3:
            score += 2
            reasons.append(f"numeric ID in the query ({key}={value})")
            break
    last = segments[-1] if segments else None
    if last is not None and last.extension in _PAGE_EXTENSIONS and score:
        score += 0.5
        reasons.append(f"a page file (.{last.extension})")
    if more:
        reasons.append(f"deeper than {MAX_SEGMENTS} segments")
    if score >= ARTICLE_SCORE:
        return UrlVerdict(True, score, "article", tuple(reasons))
    if score == 0 and len(segments) <= 2 and not parameters:
        return UrlVerdict(False, 0.0, "section", ("no date, slug or ID: a section's path",))
    return UrlVerdict(False, score, "uncertain", (*reasons, f"score under {ARTICLE_SCORE:g}"))


def _segments(path: str) -> tuple[list[_Segment], bool]:
    """The path's segments, read (at most :data:`MAX_SEGMENTS`), and whether there were more."""
    texts = [unquote(text) for text in path.split("/") if text]
    segments = [_segment(text) for text in texts[:MAX_SEGMENTS]]
    _date_roles(segments)
    return segments, len(texts) > MAX_SEGMENTS


def _segment(text: str) -> _Segment:
    stem, dot, extension = text.rpartition(".")
    extension = extension.lower()
    if dot and stem and extension in _EXTENSIONS:
        return _Segment(text, _tokenize(stem), extension)
    return _Segment(text, _tokenize(text))


def _tokenize(text: str) -> list[tuple[str, str]]:
    """Runs of letters (``word``), of digits (``num``), of both (``hex`` if it could be a hexadecimal ID,
    else ``word``), and the separators between them (``sep``)."""
    if text.isalpha():  # most segments of a section's links: one word
        return [(text, "word")]
    if text.isdigit():
        return [(text, "num")]
    tokens = []
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token.isdigit():
            kind = "num"
        elif token.isalpha():
            kind = "word"
        elif token.isalnum():
            kind = "hex" if len(token) >= 6 and set(token.lower()) <= _HEX else "word"
        else:
            kind = "sep"
        tokens.append((token, kind))
    return tokens


def _date_roles(segments: list[_Segment]) -> None:
    """Mark year, month and day segments (``/2019/02/28``, ``/2019/feb/28``) and whole-segment dates."""
    previous = ""
    for segment in segments:
        text = segment.text.lower()
        nums = [token for token, kind in segment.tokens if kind == "num"]
        if segment.extension:
            role = ""
        elif text.isdigit() and len(text) == 4 and 1990 <= int(text) <= 2099:
            role = "yyyy"
        elif previous == "yyyy" and text.isdigit() and len(text) <= 2 and 1 <= int(text) <= 12:
            role = "mm"
        elif previous == "yyyy" and text in _MONTHS:
            role = "mon"
        elif previous in ("mm", "mon") and text.isdigit() and len(text) <= 2 and 1 <= int(text) <= 31:
            role = "dd"
        elif _is_date(nums) if len(segment.tokens) == 1 else len(segment.tokens) == 5 and _date_at(segment.tokens, 0):
            role = "date"  # 20190228 or 2019-02-28
        elif text.isdigit():
            role = "id"
        else:
            role = ""
        segment.role = role
        previous = role


def _first_dated(segments: list[_Segment]) -> int:
    """The index of the first date segment, or ``len(segments)``."""
    return next((i for i, segment in enumerate(segments) if segment.role in ("yyyy", "date")), len(segments))


def _dated(segments: list[_Segment]) -> int:
    """How many date segments follow each other from the first one."""
    start = _first_dated(segments)
    count = 0
    for segment in segments[start:]:
        if segment.role not in ("yyyy", "mm", "mon", "dd", "date") or (count and segment.role in ("yyyy", "date")):
            break
        count += 1
    return count


def _is_date(nums: list[str]) -> bool:
    """Whether digit tokens read as one date: ``20190228``, or ``2019`` ``02`` ``28``."""
    if len(nums) == 1:
        text = nums[0]
        if len(text) != 8:
            return False
        nums = [text[:4], text[4:6], text[6:]]
    if len(nums) != 3 or len(nums[0]) != 4 or not all(1 <= len(n) <= 2 for n in nums[1:]):
        return False
    year, month, day = (int(n) for n in nums)
    return 1990 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31


def _in_segment_date(segment: _Segment) -> bool:
    """Whether a slug holds a date: ``…-20190228`` or ``…-2019-02-28``."""
    if segment.role:
        return False
    nums = [token for token, kind in segment.tokens if kind == "num"]
    if any(len(n) == 8 and _is_date([n]) for n in nums):
        return True
    return any(_is_date(nums[i : i + 3]) for i in range(len(nums) - 2))


def _id_in_slug(segments: list[_Segment]) -> str | None:
    """An ID among a slug's words: five digits or more, or a hexadecimal token with digits and letters."""
    for segment in segments:
        if segment.role or not segment.words:
            continue
        for token, kind in segment.tokens:
            if kind == "num" and len(token) >= 5 and not _is_date([token]):
                return token
            if kind == "hex" and len(token) >= 8 and not token.isdigit() and not token.isalpha():
                return token
    return None


def _segment_shape(segment: _Segment) -> str:
    if segment.role in ("yyyy", "mm", "mon", "dd", "id"):
        return "{" + segment.role + "}"
    if segment.role == "date":
        return "{yyyymmdd}" if len(segment.tokens) == 1 else "{yyyy}-{mm}-{dd}"
    tokens = _shaped_tokens(segment.tokens)
    shape = "".join(tokens)
    if len(shape) > MAX_LITERAL:
        shape = "{text}"
    return shape + (f".{segment.extension}" if segment.extension else "")


def _shaped_tokens(tokens: list[tuple[str, str]]) -> list[str]:
    """A segment's tokens with dates, IDs and runs of three or more words generalised."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token, kind = tokens[i]
        if kind == "word":
            j = i + 1  # the run of words, and the separators between them, from here
            while j + 1 < len(tokens) and tokens[j][1] == "sep" and tokens[j + 1][1] == "word":
                j += 2
            run = tokens[i:j]
            out.extend(["{slug}"] if len(run) >= 5 else [text.lower() for text, _ in run])
            i = j
        elif kind == "num" and _date_at(tokens, i):
            out.append("{yyyy}" + tokens[i + 1][0] + "{mm}" + tokens[i + 3][0] + "{dd}")
            i += 5
        elif kind in ("num", "hex"):
            out.append("{yyyymmdd}" if len(token) == 8 and _is_date([token]) else "{id}")
            i += 1
        else:
            out.append(token)
            i += 1
    return out


def _date_at(tokens: list[tuple[str, str]], i: int) -> bool:
    """Whether the tokens from ``i`` are a date written with separators: ``2019-02-28``."""
    if i + 4 >= len(tokens) or tokens[i + 1][1] != "sep" or tokens[i + 3][1] != "sep":
        return False
    numbers = tokens[i : i + 5 : 2]
    return all(kind == "num" for _, kind in numbers) and _is_date([text for text, _ in numbers])


def _parameters(query: str) -> list[tuple[str, str]]:
    """The query's first :data:`MAX_PARAMETERS` parameters."""
    return parse_qsl(query, keep_blank_values=True, max_num_fields=None)[:MAX_PARAMETERS] if query else []


def _value_shape(value: str) -> str:
    if value.isdigit():
        return "{id}"
    return "{value}" if value else ""


def article_decision(
    url_verdict: UrlVerdict,
    *,
    og_types: Iterable[str] = (),
    jsonld_types: Iterable[str] = (),
    has_published_date: bool = False,
    text_length: int = 0,
) -> dict[str, Any]:
    """Whether a fetched page is an article, from its URL's verdict and what the page says of itself.

    The page's own declaration counts most: a JSON-LD article type
    (``NewsArticle``, ``ReportageNewsArticle``…) or ``og:type=article``, with
    some body text and a date (or an article's URL). A page that declares
    nothing is taken on its URL, a date and a long text. A URL that is a
    tag, pagination, search, feed or home page's, and a page declaring itself
    a ``CollectionPage`` or ``ProfilePage``, are overruled only by a JSON-LD
    article type. Returns JSON-ready data: the decision, the rule that made
    it, and all the evidence, to be stored with the capture.
    """
    og = sorted({value.strip().lower() for value in og_types if isinstance(value, str) and value.strip()})
    types = sorted({_local_type(value) for value in jsonld_types if isinstance(value, str) and value.strip()})
    article_types = [t for t in types if t in ARTICLE_TYPES]
    other_types = [t for t in types if t in NON_ARTICLE_TYPES]
    declared = bool(article_types) or "article" in og
    reasons: list[str] = []
    if article_types:
        reasons.append(f"JSON-LD {', '.join(article_types)}")
    if "article" in og:
        reasons.append("og:type article")
    if other_types:
        reasons.append(f"JSON-LD {', '.join(other_types)}")
    if og and "article" not in og:
        reasons.append(f"og:type {', '.join(og)}")
    reasons.append("publication date found" if has_published_date else "no publication date")
    reasons.append(f"{text_length} characters of text")
    if url_verdict.kind in LISTING_KINDS and not article_types:
        rule, is_article = f"URL of a {url_verdict.kind} page, not overruled by a JSON-LD article type", False
    elif other_types and not article_types:
        rule, is_article = "the page declares itself something else than an article", False
    elif declared:
        enough = text_length >= MIN_TEXT and (has_published_date or url_verdict.is_article)
        rule = "declared an article" + (
            "" if enough else f", but without {MIN_TEXT} characters of text and a date or an article's URL"
        )
        is_article = enough
    else:
        enough = url_verdict.is_article and has_published_date and text_length >= LONG_TEXT
        rule = "declares nothing: " + (
            "an article's URL, a date and a long text"
            if enough
            else f"needs an article's URL, a date and {LONG_TEXT} characters of text"
        )
        is_article = enough
    return {
        "is_article": is_article,
        "rule": rule,
        "reasons": reasons,
        "url": url_verdict.to_dict(),
        "page": {
            "og_types": og,
            "jsonld_types": types,
            "has_published_date": has_published_date,
            "text_length": text_length,
        },
    }


def _local_type(value: str) -> str:
    """``NewsArticle`` from ``NewsArticle``, ``http://schema.org/NewsArticle`` or ``schema:NewsArticle``."""
    value = value.strip()
    return value.rsplit("/", 1)[-1].rsplit(":", 1)[-1] if "/" in value or ":" in value else value
