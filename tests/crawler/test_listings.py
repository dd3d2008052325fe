"""Sitemaps and feeds are read within bounds the document cannot move: size once inflated, and memory."""

from __future__ import annotations

import gzip
import subprocess
import sys
import zlib

import pytest
from scrapy.http import Response, TextResponse, XmlResponse

from crawler.listings import UnreadableListing, feed_entries, sitemap_entries
from tests.conftest import REPO

NEWS = "http://www.google.com/schemas/sitemap-news/0.9"


def xml(body: bytes | str, url: str = "https://www.example.com/sitemap.xml") -> Response:
    return XmlResponse(url, body=body.encode() if isinstance(body, str) else body, encoding="utf-8")


def test_a_sitemap_index_gives_its_children_and_a_urlset_its_entries_with_news_dates() -> None:
    index = xml(
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<sitemap><loc> https://www.example.com/a.xml </loc></sitemap><sitemap><loc/></sitemap>"
        "<sitemap><loc>https://www.example.com/b.xml.gz</loc><lastmod>2019-02-28</lastmod></sitemap>"
        "</sitemapindex>"
    )
    assert sitemap_entries(index, 0) == (["https://www.example.com/a.xml", "https://www.example.com/b.xml.gz"], [])
    urlset = xml(
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="{NEWS}">'
        "<url><loc>https://www.example.com/one</loc>"
        "<news:news><news:publication_date>2019-02-28T10:00:00+07:00</news:publication_date></news:news></url>"
        "<url><loc>https://www.example.com/two</loc><lastmod>2019-02-27</lastmod></url>"
        "<url><image><loc>https://www.example.com/not-an-entry.png</loc></image></url>"
        "</urlset>"
    )
    assert sitemap_entries(urlset, 0) == (
        [],
        [("https://www.example.com/one", "2019-02-28"), ("https://www.example.com/two", None)],
    )


def test_rss_and_atom_entries_with_their_dates() -> None:
    rss = TextResponse(
        "https://www.example.com/feed",
        encoding="utf-8",
        body=b"""<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title>
        <item><link> /news/one </link><pubDate>Thu, 28 Feb 2019 10:00:00 GMT</pubDate></item>
        <item><link>   </link><guid>https://www.example.com/news/two</guid><dc:date>2019-02-27</dc:date></item>
        <item><guid isPermaLink="false">tag:not-a-link</guid></item>
        </channel></rss>""",
    )
    assert feed_entries(rss, 0) == [("/news/one", "2019-02-28"), ("https://www.example.com/news/two", "2019-02-27")]
    atom = TextResponse(
        "https://www.example.com/atom",
        encoding="utf-8",
        body=b"""<feed xmlns="http://www.w3.org/2005/Atom"><link href="/"/>
        <entry><link rel="edit" href="/edit/1"/><link href="/news/one"/><updated>2019-02-28T10:00:00Z</updated></entry>
        <entry><link rel="alternate" href="/news/two"/><published>2019-02-26</published></entry>
        </feed>""",
    )
    assert feed_entries(atom, 0) == [("/news/one", "2019-02-28"), ("/news/two", "2019-02-26")]


def test_a_gzip_bomb_is_refused_once_it_inflates_past_the_limit() -> None:
    bomb = zlib.compressobj(9, zlib.DEFLATED, 31)
    body = bomb.compress(b"<urlset>") + b"".join(bomb.compress(b" " * (1 << 20)) for _ in range(64)) + bomb.flush()
    assert len(body) < 100_000
    with pytest.raises(UnreadableListing, match="larger than 10,000,000 bytes once inflated"):
        sitemap_entries(xml(body, "https://www.example.com/sitemap.xml.gz"), 10_000_000)


def test_an_oversized_or_broken_gzip_listing_is_unreadable() -> None:
    with pytest.raises(UnreadableListing, match="larger than 100 bytes"):
        feed_entries(xml("<rss>" + " " * 200 + "</rss>"), 100)
    with pytest.raises(UnreadableListing, match="not valid gzip"):
        sitemap_entries(xml(b"\x1f\x8b\x08" + b"\x00" * 50), 0)
    assert sitemap_entries(xml(gzip.compress(b"<urlset><url><loc>https://x.example/a</loc></url></urlset>")), 0) == (
        [],
        [("https://x.example/a", None)],
    )


def test_a_damaged_document_gives_the_entries_before_the_damage() -> None:
    broken = xml("<urlset><url><loc>https://x.example/a</loc></url><url><loc>https://x.example/b</loc></url><url><l")
    assert sitemap_entries(broken, 0)[1][:2] == [("https://x.example/a", None), ("https://x.example/b", None)]
    assert sitemap_entries(xml(b"\x00\xff not xml at all"), 0) == ([], [])


def test_entities_are_not_expanded() -> None:
    billion = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(f'<!ENTITY lol{i} "{"&lol{};".format(i - 1 if i > 1 else "") * 10}">' for i in range(1, 9))
        + "]><urlset><url><loc>https://x.example/&lol8;</loc></url></urlset>"
    )
    children, entries = sitemap_entries(xml(billion), 0)
    assert all(len(url) < 1000 for url, _ in entries)


def test_a_large_sitemap_is_read_in_memory_far_below_its_tree() -> None:
    """34 MB and 200,000 entries: Scrapy's Selector took ~350 MB more; the streamed read ~35 MB."""
    script = """
import resource
from scrapy.http import XmlResponse
from crawler.listings import sitemap_entries
body = ("<urlset>" + "".join(
    f"<url><loc>https://www.example.com/news/2019/02/28/story-number-{i}</loc>"
    "<news><publication_date>2019-02-28T10:00:00Z</publication_date></news></url>" for i in range(200_000)
) + "</urlset>").encode()
response = XmlResponse("https://www.example.com/sitemap.xml", body=body)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
assert len(sitemap_entries(response, 0)[1]) == 200_000
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""
    grown = int(
        subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True).stdout
    )
    assert grown < 150, f"reading the sitemap grew the process by {grown} MB"
