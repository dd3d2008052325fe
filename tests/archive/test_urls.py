"""The one guarded way to parse URLs from the web: every malformed kind refused with a reason, never a crash."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.provisional import urls

from archive.db.identity import canonical_form, story_url
from archive.errors import NewsArchiveError
from archive.index.surt import surt
from archive.urls import MAX_URL_LENGTH, UnparseableUrl, join_url, split_url

BAD = [
    ("http://example.com:99999/a", "Port out of range"),
    ("http://example.com:-1/a", "Port"),
    ("http://example.com:8o/a", "Port could not be cast"),
    ("http://[::1/a", "Invalid IPv6 URL"),
    ("http://[not-an-address]/a", "'not-an-address' does not appear to be an IPv4 or IPv6 address"),
    ("http://example.com/" + "a" * 10_000, "longer than 2,083 bytes"),
    ("http://example.com/" + "é" * 1100, "longer than 2,083 bytes"),  # 2,219 bytes in UTF-8
    ("http://example.com/a\x00b", "control character '\\x00' at position 20"),
    ("http://example.com/a\nb", "control character '\\n'"),
    ("http://example.com/caf\udce9", "lone surrogate"),  # the byte 0xE9 decoded with surrogateescape
    ("/relative/path", "no scheme"),
    ("", "no scheme"),
    ("http:///path", "no host"),
    ("https://" + "a" * 254 + "/", "host longer than 253"),
]


@pytest.mark.parametrize(("url", "reason"), BAD)
def test_malformed_urls_are_refused_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(UnparseableUrl) as refused:
        split_url(url)
    assert reason in refused.value.reason
    assert refused.value.url == url
    assert isinstance(refused.value, NewsArchiveError) and isinstance(refused.value, ValueError)
    assert len(str(refused.value)) < 400  # a 10 KB URL is shown cut short


def test_parts_of_a_good_url() -> None:
    parts = split_url("https://User@WWW.Example.com:8443/a/b?x=1#top")
    assert (parts.scheme, parts.host, parts.port, parts.path, parts.query, parts.fragment) == (
        "https",
        "www.example.com",
        8443,
        "/a/b",
        "x=1",
        "top",
    )
    assert split_url("http://[2001:db8::1]:80/").host == "2001:db8::1"
    assert split_url("dns:example.com").host == ""  # other crawlers' WARCs hold such names
    assert split_url("http://example.com/" + "a" * (MAX_URL_LENGTH - 19)).port is None


def test_references_are_joined_as_a_browser_would() -> None:
    base = "http://example.com/news/story"
    assert join_url(base, "  ../img/a.png\n") == "http://example.com/img/a.png"
    assert join_url(base, "/a\tb") == "http://example.com/ab"
    assert join_url(base, "//cdn.example.com/x.js") == "http://cdn.example.com/x.js"
    for reference in ("http://[::1/x", "//example.com:99999/x", "/a\x00b", "x" * 10_000):
        with pytest.raises(UnparseableUrl):
            join_url(base, reference)
    with pytest.raises(UnparseableUrl):
        join_url("http://example.com:99999/", "a")


def test_keys_refuse_what_cannot_be_parsed() -> None:
    with pytest.raises(UnparseableUrl):
        canonical_form("http://example.com:99999/a")
    with pytest.raises(UnparseableUrl):
        surt("http://example.com:99999/a")
    capture = "http://www.example.com/story"
    assert story_url("http://www.example.com:99999/story", capture, ["example.com"]) == capture
    assert story_url("http://[::1/story", capture, None) == capture


# -- properties -----------------------------------------------------------------------------------

#: Text the way it arrives: any characters, or bytes decoded as the WARC reader and Scrapy decode them.
WEB_TEXT = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=300).map(lambda raw: raw.decode("utf-8", "surrogateescape")),
    st.binary(max_size=300).map(lambda raw: raw.decode("latin-1")),
    st.builds(lambda a, b: a + b, st.sampled_from(["http://", "https://[", "http://h:", "//", "http://h/"]), st.text()),
)


@settings(max_examples=2000, deadline=None)
@given(WEB_TEXT)
@example("http://h:99999/")
@example("http://[::1")
@example("http://h/" + "x" * 10_000)
def test_split_url_only_ever_refuses_with_unparseable_url(text: str) -> None:
    try:
        parts = split_url(text)
    except UnparseableUrl:
        return
    # what is accepted can be stored and keyed
    assert len(parts.url.encode("utf-8")) <= MAX_URL_LENGTH
    assert parts.port is None or 0 <= parts.port <= 65535
    if parts.scheme in ("http", "https"):
        surt(parts.url)
        canonical_form(parts.url)


@settings(max_examples=1000, deadline=None)
@given(st.sampled_from(["http://example.com/a/b", "https://h:8080/x?y=1"]), WEB_TEXT)
def test_join_url_only_ever_refuses_with_unparseable_url(base: str, reference: str) -> None:
    try:
        joined = join_url(base, reference)
    except UnparseableUrl:
        return
    assert split_url(joined).url == joined


@settings(max_examples=500, deadline=None)
@given(urls())
def test_valid_urls_round_trip(url: str) -> None:
    parts = split_url(url)
    assert parts.url == url
    assert join_url("http://elsewhere.example/", url) == url
    assert split_url(canonical_form(url)).host == parts.host
