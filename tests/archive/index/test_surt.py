"""Our SURT keys are the ``surt`` package's (what pywb looks captures up by), compared in a separate process."""

import json
import random
import subprocess

import pytest

from archive.index.surt import surt
from archive.urls import UnparseableUrl
from tests.fixtureweb.data import load_cases, load_seeds
from tests.fixtureweb.server import FIDELITY_ROUTES, ROUTES
from tests.tools import tool

AWKWARD = [
    "http://Example.COM/Path/To/Page.HTML?B=2&a=1&A=3",
    "https://www.example.com:443/a",
    "http://www.example.com:8080/a",
    "https://example.com:80/",
    "http://user:pass@www2.example.com/a#frag",
    "http://www.example.com/a?",
    "http://www.example.com",
    "http://example.com/a/./b/../c",
    "http://example.com//a//b/",
    "http://example.com/a/../../b",
    "http://example.com/a//../b",
    "http://example.com/%2e%2e/x",
    "http://example.com/a%2fb/%7Euser",
    "http://example.com/a b?c d#e f",
    "http://example.com/café?ö=ü",
    "http://example.com/caf%C3%A9",
    "http://example.com/a%zz%2541%",
    "http://example.com/a?q=%e9",
    "http://münchen.de/",
    "http://ÉXAMPLE.com/",
    "http://127.0.0.1:8080/x",
    "http://2130706433/",
    "http://1.2.256/",
    "http://256.1.1.1/",
    "http://[2001:DB8::1]:80/x",
    "http://EXAMPLE.com./a",
    "http://example..com/a",
    "http://www.www.example.com/",
    "http://www12a.example.com/",
    "http://www.com/",
    "http://example.com/a?jsessionid=0123456789abcdef0123456789abcdef&b=1",
    "http://example.com/a?B=1&SID=0123456789ABCDEF0123456789ABCDEF",
    "http://example.com/a?xsid=0123456789abcdef0123456789abcdef",
    "http://example.com/a?phpsessid=0123456789abcdef0123456789abcdefgh&b=1",
    "http://example.com/a?aspsessionidabcdefgh=abcdefghijklmnopqrstuvwx&b=1",
    "http://example.com/a?b=1&cfid=12&cftoken=34",
    "http://example.com/(S(0123456789abcdefghijklmn))/page.aspx",
    "http://example.com/a?b=%26c&a=%3D",
    "http://example.com/a?a=1&=&a=b&=a&&",
    "http://example.com/?A&a=&=&A",
    "http://example.com/a?b=c&d=e#f?g",
    "http://example.com:8080?x=1",
    "dns:example.com",
    "urn:uuid:1234",
]


def fuzzed(count: int) -> list[str]:
    """Random URLs from awkward pieces, the same on every run."""
    rng = random.Random(7)
    hosts = ["example.com", "www.Example.COM", "www2.news.co.uk", "127.0.0.1", "10.1", "münchen.de", "a..b.com."]
    pieces = [*"abcXYZ019/.-_~!$&'()*+,;=:@?#%", "%41", "%2F", "%25", "%2e", "%20", "%C3%A9", "é", " ", ".."]
    pieces += ["./", "//", "%3D", "%26", "&", "?", "=", "sid=0123456789abcdef0123456789abcdef"]
    return [
        f"{rng.choice(['http', 'https', 'HTTP'])}://{rng.choice(hosts)}/"
        + "".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        for _ in range(count)
    ]


def reference_keys(urls: list[str]) -> list[str]:
    """``surt.surt`` of each URL, from the tools' virtualenv (the package is AGPL: never imported here)."""
    python = tool("python")
    script = "import json, sys, surt; print(json.dumps([surt.surt(u) for u in json.load(sys.stdin)]))"
    done = subprocess.run([str(python), "-c", script], input=json.dumps(urls), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_keys_match_the_surt_package() -> None:
    urls = AWKWARD + [seed.url for seed in load_seeds()] + [case["url"] for case in load_cases()]
    urls += list(ROUTES) + list(FIDELITY_ROUTES) + fuzzed(3000)
    expected = reference_keys(urls)
    assert [(url, surt(url)) for url in urls if surt(url) != expected[urls.index(url)]] == []


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("http://www.Example.com:80/a/./b/?B=2&a=1#top", "com,example)/a/b?a=1&b=2"),
        ("http://thinkprogress.org/?p=1234567", "org,thinkprogress)/?p=1234567"),
        ("http://feeds.thinkprogress.org/~r/tp/~3/hanoi/", "org,thinkprogress,feeds)/~r/tp/~3/hanoi"),
        ("http://127.0.0.1:8080/", "1,0,0,127:8080)/"),
    ],
)
def test_known_keys(url: str, key: str) -> None:
    assert surt(url) == key


@pytest.mark.parametrize("url", ["http://example.com:99999/", "http://example.com:8o/", "http://example.com/\udce9"])
def test_a_url_without_a_key_is_refused_as_unparseable(url: str) -> None:
    with pytest.raises(UnparseableUrl) as refused:
        surt(url)
    assert refused.value.url == url
