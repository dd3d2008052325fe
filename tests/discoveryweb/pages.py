"""The markup of the discovery outlets: article and listing pages, feeds and sitemaps, as publishing systems write them.

Article pages declare themselves as news sites do (``og:type=article``,
JSON-LD ``NewsArticle``, ``article:published_time``, a ``<time>`` in the
byline); listing pages declare ``og:type=website`` and a JSON-LD
``CollectionPage``, ``ProfilePage`` or ``WebSite``. Navigation sits in the
site header, legal links in the footer, teasers in ``<article>`` elements
with headers of their own, as in the themes these outlets imitate.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from email.utils import format_datetime
from html import escape
from xml.sax.saxutils import escape as xml_escape

from tests.fixtureweb import Seed

#: Publication times of day by position, so that an outlet's articles differ in time too.
_TIMES = ("06:40", "09:15", "11:05", "13:30", "16:20", "19:45", "21:10")
_OFFSET = "-05:00"


@dataclass(frozen=True)
class Story:
    """One article of an outlet: what its page and its entries in feeds and sitemaps show."""

    url: str
    headline: str
    published: date
    author: str
    author_url: str
    section: str
    section_url: str
    tags: tuple[tuple[str, str], ...]  # (name, URL)
    paragraphs: tuple[str, ...]
    standfirst: str
    image: str | None = None
    position: int = 0

    @property
    def timestamp(self) -> str:
        """ISO 8601 publication time, as ``article:published_time`` and JSON-LD give it."""
        return f"{self.published.isoformat()}T{_TIMES[self.position % len(_TIMES)]}:00{_OFFSET}"

    @property
    def rfc822(self) -> str:
        """The publication time as RSS gives it."""
        from datetime import datetime

        return format_datetime(datetime.fromisoformat(self.timestamp))

    @property
    def shown_date(self) -> str:
        return f"{self.published:%B} {self.published.day}, {self.published.year}"


@dataclass(frozen=True)
class Chrome:
    """What every page of an outlet carries: name, home, navigation, footer links, head links."""

    site_name: str
    home: str
    navigation: tuple[tuple[str, str], ...]  # (label, URL) in the header menu
    footer: tuple[tuple[str, str], ...]  # (label, URL) in the footer menu
    head_links: tuple[str, ...] = ()  # <link> elements on every page (site feeds, API)
    home_head_links: tuple[str, ...] = ()  # <link> elements on the home page only
    header_extra: str = ""  # further header markup (a login link, a sister title)
    body_class: str = ""
    language: str = "en-US"
    sidebar: tuple[tuple[str, str], ...] = ()  # (label, URL) in an archives widget


@dataclass(frozen=True)
class Listing:
    """A listing page: its kind (home, section, tag, author, pagination), title and stories."""

    url: str
    title: str
    kind: str
    stories: Sequence[Story]
    older: str | None = None  # the next page of the listing
    newer: str | None = None
    head_links: tuple[str, ...] = ()
    extra: str = ""
    related: tuple[tuple[str, str], ...] = field(default=())


def feed_link(url: str, title: str, media_type: str = "application/rss+xml") -> str:
    return f'<link rel="alternate" type="{media_type}" title="{escape(title)}" href="{escape(url)}">'


def article_page(story: Story, chrome: Chrome, related: Iterable[Story] = (), head_links: Sequence[str] = ()) -> bytes:
    """An article page that declares itself one (Open Graph, JSON-LD NewsArticle, dates)."""
    jsonld = {
        "@context": "https://schema.org",
        "@graph": [
            {
                "@type": "NewsArticle",
                "headline": story.headline,
                "description": story.standfirst,
                "datePublished": story.timestamp,
                "dateModified": story.timestamp,
                "author": {"@type": "Person", "name": story.author, "url": story.author_url},
                "publisher": {"@type": "Organization", "name": chrome.site_name, "url": chrome.home},
                "mainEntityOfPage": story.url,
                "articleSection": story.section,
                "keywords": [name for name, _ in story.tags],
            },
            {"@type": "WebPage", "@id": story.url, "url": story.url, "name": story.headline},
        ],
    }
    meta = [
        '<meta property="og:type" content="article">',
        f'<meta property="og:title" content="{escape(story.headline)}">',
        f'<meta property="og:description" content="{escape(story.standfirst)}">',
        f'<meta property="og:url" content="{escape(story.url)}">',
        f'<meta property="og:site_name" content="{escape(chrome.site_name)}">',
        f'<meta property="article:published_time" content="{story.timestamp}">',
        f'<meta property="article:section" content="{escape(story.section)}">',
        *(f'<meta property="article:tag" content="{escape(name)}">' for name, _ in story.tags),
        f'<meta name="author" content="{escape(story.author)}">',
        f'<meta name="description" content="{escape(story.standfirst)}">',
        f'<link rel="canonical" href="{escape(story.url)}">',
        *head_links,
    ]
    image = (
        f'<figure class="wp-caption"><img src="{escape(story.image)}" alt="The summit venue in Hanoi" '
        'width="1024" height="683"><figcaption>The summit venue in Hanoi. (Fixture photo)</figcaption></figure>'
        if story.image
        else ""
    )
    tags = " ".join(f'<a href="{escape(url)}" rel="tag">{escape(name)}</a>' for name, url in story.tags)
    related_items = "".join(f'<li><a href="{escape(r.url)}">{escape(r.headline)}</a></li>' for r in related)
    body = (
        '<main id="main" class="site-main">'
        '<article class="post type-post status-publish format-standard hentry">'
        '<header class="entry-header">'
        f'<p class="entry-category"><a href="{escape(story.section_url)}" rel="category tag">'
        f"{escape(story.section)}</a></p>"
        f'<h1 class="entry-title">{escape(story.headline)}</h1>'
        f'<p class="standfirst">{escape(story.standfirst)}</p>'
        f'<p class="byline">By <a class="author" href="{escape(story.author_url)}" rel="author">'
        f"{escape(story.author)}</a> · "
        f'<time class="entry-date published" datetime="{story.timestamp}">{story.shown_date}</time></p>'
        "</header>"
        f'<div class="entry-content">{image}'
        + "".join(f"<p>{escape(paragraph)}</p>" for paragraph in story.paragraphs)
        + "</div>"
        f'<footer class="entry-footer"><span class="tags-links">Tagged {tags}</span></footer>'
        "</article>"
        + (f'<aside class="related-posts"><h2>Related</h2><ul>{related_items}</ul></aside>' if related_items else "")
        + "</main>"
    )
    return _document(
        f"{story.headline} | {chrome.site_name}", chrome, meta, jsonld, body, "post-template-default single"
    )


def listing_page(listing: Listing, chrome: Chrome) -> bytes:
    """A home, section, tag, author or pagination page: teasers, no article of its own."""
    schema = {"home": "WebSite", "author": "ProfilePage"}.get(listing.kind, "CollectionPage")
    jsonld = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": schema, "@id": listing.url, "url": listing.url, "name": listing.title},
            {"@type": "Organization", "name": chrome.site_name, "url": chrome.home},
        ],
    }
    meta = [
        '<meta property="og:type" content="website">',
        f'<meta property="og:title" content="{escape(listing.title)}">',
        f'<meta property="og:url" content="{escape(listing.url)}">',
        f'<meta property="og:site_name" content="{escape(chrome.site_name)}">',
        f'<link rel="canonical" href="{escape(listing.url)}">',
        *(chrome.home_head_links if listing.kind == "home" else ()),
        *listing.head_links,
    ]
    teasers = "".join(
        '<article class="teaser">'
        f'<header><p class="kicker"><a href="{escape(s.section_url)}">{escape(s.section)}</a></p>'
        f'<h2 class="teaser-title"><a href="{escape(s.url)}">{escape(s.headline)}</a></h2></header>'
        f"<p>{escape(s.standfirst)}</p>"
        f'<p class="meta">By <a href="{escape(s.author_url)}">{escape(s.author)}</a> · '
        f'<time datetime="{s.timestamp}">{s.shown_date}</time></p>'
        "</article>"
        for s in listing.stories
    )
    pages = ""
    if listing.older or listing.newer:
        links = ""
        if listing.newer:
            links += f'<a class="prev page-numbers" href="{escape(listing.newer)}">Newer stories</a> '
        if listing.older:
            links += f'<a class="next page-numbers" href="{escape(listing.older)}">Older stories</a>'
        pages = f'<nav class="navigation pagination" aria-label="Stories"><div class="nav-links">{links}</div></nav>'
    sidebar = ""
    if chrome.sidebar:
        items = "".join(f'<li><a href="{escape(url)}">{escape(label)}</a></li>' for label, url in chrome.sidebar)
        sidebar = f'<aside class="widget widget_archive"><h2 class="widget-title">Archives</h2><ul>{items}</ul></aside>'
    body = (
        f'<main id="main" class="site-main"><h1 class="page-title">{escape(listing.title)}</h1>'
        f"{listing.extra}{teasers}{pages}</main>{sidebar}"
    )
    return _document(f"{listing.title} | {chrome.site_name}", chrome, meta, jsonld, body, listing.kind)


def plain_page(url: str, title: str, text: str, chrome: Chrome) -> bytes:
    """A page of the site that is neither an article nor a listing: about, contact, a portal."""
    jsonld = {"@context": "https://schema.org", "@type": "AboutPage", "url": url, "name": title}
    meta = [
        '<meta property="og:type" content="website">',
        f'<meta property="og:title" content="{escape(title)}">',
        f'<link rel="canonical" href="{escape(url)}">',
    ]
    body = f'<main id="main"><h1>{escape(title)}</h1><p>{escape(text)}</p></main>'
    return _document(f"{title} | {chrome.site_name}", chrome, meta, jsonld, body, "page")


def not_found_page(chrome: Chrome) -> bytes:
    """What a server that never answers 404 sends for an unknown path (with status 200)."""
    meta = ['<meta name="robots" content="noindex">']
    body = '<main id="main"><h1>Page not found</h1><p>Sorry, we could not find that page.</p></main>'
    return _document(f"Page not found | {chrome.site_name}", chrome, meta, None, body, "error404")


def _document(
    title: str, chrome: Chrome, meta: list[str], jsonld: dict[str, object] | None, body: str, body_class: str
) -> bytes:
    navigation = "".join(
        f'<li class="menu-item"><a href="{escape(url)}">{escape(label)}</a></li>' for label, url in chrome.navigation
    )
    footer = "".join(f'<li><a href="{escape(url)}">{escape(label)}</a></li>' for label, url in chrome.footer)
    script = f'<script type="application/ld+json">{json.dumps(jsonld, ensure_ascii=False)}</script>' if jsonld else ""
    head = "\n".join(
        [
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)}</title>",
            *meta,
            *chrome.head_links,
            script,
        ]
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{chrome.language}">\n<head>\n{head}\n</head>\n'
        f'<body class="{escape(chrome.body_class)} {escape(body_class)}">\n'
        '<header id="masthead" class="site-header">'
        f'<p class="site-title"><a href="{escape(chrome.home)}" rel="home">{escape(chrome.site_name)}</a></p>'
        f'<nav id="site-navigation" class="main-navigation" aria-label="Primary">'
        f'<ul id="primary-menu" class="menu">{navigation}</ul></nav>{chrome.header_extra}</header>\n'
        f"{body}\n"
        '<footer id="colophon" class="site-footer">'
        f'<nav class="footer-navigation" aria-label="Footer"><ul class="footer-menu">{footer}</ul></nav>'
        f"<p>© 2019 {escape(chrome.site_name)}. A fixture outlet for tests, rebuilt from saved articles.</p>"
        "</footer>\n</body>\n</html>\n"
    ).encode()


def rss(url: str, site: str, home: str, stories: Sequence[Story], description: str = "") -> bytes:
    """An RSS 2.0 feed of the stories, newest first (WordPress and Drupal write this)."""
    items = "".join(
        "<item>"
        f"<title>{xml_escape(s.headline)}</title><link>{xml_escape(s.url)}</link>"
        f'<guid isPermaLink="true">{xml_escape(s.url)}</guid>'
        f"<pubDate>{s.rfc822}</pubDate><dc:creator><![CDATA[{s.author}]]></dc:creator>"
        f"<category><![CDATA[{s.section}]]></category>"
        f"<description><![CDATA[{s.standfirst}]]></description>"
        "</item>"
        for s in stories
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">'
        f"<channel><title>{xml_escape(site)}</title>"
        f'<atom:link href="{xml_escape(url)}" rel="self" type="application/rss+xml"/>'
        f"<link>{xml_escape(home)}</link><description>{xml_escape(description or site)}</description>"
        f"<language>en-US</language>{items}</channel></rss>\n"
    ).encode()


def atom(url: str, site: str, home: str, stories: Sequence[Story]) -> bytes:
    """An Atom feed of the stories."""
    entries = "".join(
        "<entry>"
        f"<title>{xml_escape(s.headline)}</title>"
        f'<link rel="alternate" type="text/html" href="{xml_escape(s.url)}"/>'
        f"<id>{xml_escape(s.url)}</id><published>{s.timestamp}</published><updated>{s.timestamp}</updated>"
        f"<author><name>{xml_escape(s.author)}</name></author><summary>{xml_escape(s.standfirst)}</summary>"
        "</entry>"
        for s in stories
    )
    updated = stories[0].timestamp if stories else "2019-03-01T00:00:00-05:00"
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f'<title>{xml_escape(site)}</title><link rel="self" href="{xml_escape(url)}"/>'
        f'<link rel="alternate" href="{xml_escape(home)}"/><id>{xml_escape(home)}</id><updated>{updated}</updated>'
        f"{entries}</feed>\n"
    ).encode()


def json_feed(url: str, site: str, home: str, stories: Sequence[Story]) -> bytes:
    """A JSON Feed 1.1 of the stories."""
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": site,
        "home_page_url": home,
        "feed_url": url,
        "items": [
            {
                "id": s.url,
                "url": s.url,
                "title": s.headline,
                "summary": s.standfirst,
                "date_published": s.timestamp,
                "authors": [{"name": s.author}],
            }
            for s in stories
        ],
    }
    return json.dumps(feed, indent=1).encode()


def urlset(entries: Iterable[tuple[str, str | None]]) -> bytes:
    """A sitemap of (URL, last modification date or None)."""
    urls = "".join(
        f"<url><loc>{xml_escape(url)}</loc>" + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "") + "</url>"
        for url, lastmod in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>\n'
    ).encode()


def sitemap_index(children: Iterable[str]) -> bytes:
    """A sitemap index of child sitemaps (Yoast SEO writes one per post type and taxonomy)."""
    sitemaps = "".join(
        f"<sitemap><loc>{xml_escape(url)}</loc><lastmod>2019-03-01T12:00:00+00:00</lastmod></sitemap>"
        for url in children
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{sitemaps}</sitemapindex>\n'
    ).encode()


def news_sitemap(site: str, stories: Iterable[Story]) -> bytes:
    """A Google News sitemap: the last days' stories with their publication dates and titles."""
    urls = "".join(
        f"<url><loc>{xml_escape(s.url)}</loc><news:news><news:publication>"
        f"<news:name>{xml_escape(site)}</news:name><news:language>en</news:language></news:publication>"
        f"<news:publication_date>{s.timestamp}</news:publication_date>"
        f"<news:title>{xml_escape(s.headline)}</news:title></news:news></url>"
        for s in stories
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>\n'
    ).encode()


def story_text(seed: Seed, variant: int) -> tuple[tuple[str, ...], str]:
    """Paragraphs and a standfirst made from a seed: its body rotated by ``variant`` and cut to an excerpt
    of at least four paragraphs, so that an outlet's articles differ from each other and from the seed."""
    lines = seed.body_lines
    start = variant % len(lines)
    rotated = lines[start:] + lines[:start]
    keep = max(4, len(lines) - variant % 3)
    paragraphs = tuple(rotated[:keep])
    standfirst = paragraphs[0].split(". ")[0].rstrip(".") + "."
    return paragraphs, standfirst
