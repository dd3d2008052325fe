"""The requisite scanner finds what a DOM would, without building one."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from crawler.requisites import requisites

FIXTURE_PAGES = sorted((Path(__file__).parents[1] / "fixtureweb").rglob("*.html"))
#: The same question asked of a DOM, as the spider asked it before the scanner.
XPATH = "//img/@src | //link[contains(concat(' ', @rel, ' '), ' stylesheet ')]/@href | //script/@src"


def everything(host: str) -> bool:
    return True


@pytest.mark.parametrize("page", FIXTURE_PAGES, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_scanner_agrees_with_lxml_on_the_fixture_pages(page: Path) -> None:
    response = HtmlResponse("http://www.example.org/a/", body=page.read_bytes(), encoding="utf-8")
    expected = [s.strip() for s in response.xpath(XPATH).getall() if s.strip()]
    assert list(requisites(response.text, everything)) == expected


def test_only_images_scripts_and_stylesheets_count() -> None:
    markup = """<html><head>
      <LINK REL="Stylesheet" HREF="/a.css">
      <link rel="alternate stylesheet" href='/b.css'>
      <link rel="icon" href="/favicon.ico"><link rel="canonical" href="/page">
      <script src=/app.js defer></script><script>var x = 1;</script>
    </head><body>
      <img alt="x" src="/one.png"/><img src="  /two.png  "><img src=""><img>
      <a href="/not-a-requisite.png">x</a><iframe src="/frame.html"></iframe>
    </body></html>"""
    assert list(requisites(markup, everything)) == ["/a.css", "/b.css", "/app.js", "/one.png", "/two.png"]


def test_markup_inside_comments_scripts_and_styles_is_not_a_tag() -> None:
    markup = """
      <!-- <img src="/commented.png"> -->
      <script src="/real.js">document.write('<img src="/written.png">');</script>
      <script>var html = "<img src='/quoted.png'>";</script>
      <style>/* <img src="/styled.png"> */ body { background: url(/bg.png) }</style>
      <img src="/kept.png">"""
    assert list(requisites(markup, everything)) == ["/real.js", "/kept.png"]


def test_entities_are_decoded_and_the_first_of_repeated_attributes_wins() -> None:
    markup = '<img src="/i.png?w=100&amp;h=50" src="/other.png"><img data-src="/lazy.png" src="/p.png">'
    assert list(requisites(markup, everything)) == ["/i.png?w=100&h=50", "/p.png"]


def test_absolute_addresses_are_filtered_by_host_before_anything_else() -> None:
    markup = """<img src="http://WWW.Outlet.example/a.png"><img src="//cdn.example/b.png">
      <img src="https://user@ads.example:8443/c.png"><img src="d.png"><img src="http://[::1]/e.png">"""
    hosts: list[str] = []

    def outlet(host: str) -> bool:
        hosts.append(host)
        return host.lower() == "www.outlet.example"

    assert list(requisites(markup, outlet)) == ["http://WWW.Outlet.example/a.png", "d.png"]
    assert hosts == ["WWW.Outlet.example", "cdn.example", "ads.example", "::1"]


HOSTILE = {
    "an unclosed script, then many script tags": "<script>" + "<script src=/a.js>" * 15_000,
    "many unclosed stylesheets": "<style>" * 40_000,
    "many unclosed comments": "<!--" * 60_000,
    "image tags that never end": "<img " * 50_000,
    "src values that never close": '<img src="' * 25_000,
    "link tags that never end": "<link rel=stylesheet href=/a.css " * 8_000,
    "a 250 KB attribute value": "<img src=" + "a" * 250_000 + ">",
}


@pytest.mark.parametrize("markup", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_markup_is_scanned_in_linear_time(markup: str) -> None:
    """Each of these took seconds to minutes (quadratic) before; a generous guard, not a speed test."""
    started = time.process_time()
    list(requisites(markup, everything))
    assert time.process_time() - started < 2.0


def test_an_element_left_open_runs_to_the_end_of_the_page() -> None:
    markup = '<img src="/before.png"><script>var a = 1; <img src="/inside.png">'
    assert list(requisites(markup, everything)) == ["/before.png"]
    assert list(requisites('<img src="/a.png"><!-- <img src="/b.png">', everything)) == ["/a.png"]


def test_src_is_an_attribute_not_text_inside_another_value() -> None:
    assert list(requisites('<img alt="see src=/alt.png" src="/real.png">', everything)) == ["/real.png"]
