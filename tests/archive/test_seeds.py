import logging
import re
import time
from pathlib import Path

import pytest
import regex

from archive.db.models import Outlet as OutletRow
from archive.seeds import MAX_NAME_LENGTH, PATTERN_TIMEOUT, Outlet, SeedError, compile_pattern, load_seeds

REPO = Path(__file__).resolve().parents[2]

GOOD = """
[[outlet]]
name = "Example News"
allowed_domains = ["example.com"]
start_urls = ["https://www.example.com/news"]
article_patterns = ['/news/\\d{4}/']
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "seeds.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["outlets.toml", "fixture-web.toml"])
def test_shipped_seed_lists_are_valid(name: str) -> None:
    seeds = load_seeds(REPO / "seeds" / name)
    assert len(seeds.outlets) == 3
    for outlet in seeds.outlets:
        assert outlet.start_urls or outlet.feeds or outlet.sitemaps


def test_outlet_owns_subdomains_and_matches_articles(tmp_path: Path) -> None:
    outlet = load_seeds(write(tmp_path, GOOD)).outlets[0]
    assert outlet.owns("https://feeds.example.com/x")
    assert not outlet.owns("https://example.com.evil.org/x")
    assert outlet.is_article("https://www.example.com/news/2019/02/28/story")
    assert not outlet.is_article("https://www.example.com/about")


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        (GOOD.replace('name = "Example News"', ""), "outlet[0].name", "required"),
        (
            GOOD.replace('"https://www.example.com/news"', '"www.example.com/news"'),
            "outlet[0].start_urls[0]",
            "absolute",
        ),
        (GOOD.replace('"https://www.example.com/news"', '"https://other.org/"'), "outlet[0].start_urls[0]", "outside"),
        (GOOD.replace("'/news/\\d{4}/'", "'/news/(\\d{4}/'"), "outlet[0].article_patterns[0]", "regular expression"),
        (GOOD.replace("allowed_domains", "allowed_domain"), "outlet[0].allowed_domain", "unknown field"),
        (GOOD.replace('["example.com"]', '"example.com"'), "outlet[0].allowed_domains", "list of strings"),
        (GOOD + GOOD, "outlet[1].name", "duplicate"),
        ("[outlet]\nname = 1\n", "outlet", "no [[outlet]]"),
        # issue 13: each of these was accepted, then froze, exhausted memory or skipped seeds in the crawl
        (GOOD.replace("'/news/\\d{4}/'", "'a{99999999999}'"), "outlet[0].article_patterns[0]", "repeats too much"),
        (GOOD.replace("'/news/\\d{4}/'", "'a{4294967294}'"), "outlet[0].article_patterns[0]", "repeats too much"),
        (GOOD.replace("'/news/\\d{4}/'", "'(\\d{1000}){1000}'"), "outlet[0].article_patterns[0]", "repeats too much"),
        (
            GOOD.replace("'/news/\\d{4}/'", f"'{'(' * 3000}a{')' * 3000}'"),
            "outlet[0].article_patterns[0]",
            "longer than",
        ),
        (GOOD.replace("'/news/\\d{4}/'", f"'{'(' * 30}a{')' * 30}'"), "outlet[0].article_patterns[0]", "nested more"),
        (GOOD.replace("'/news/\\d{4}/'", "'(a|aa)+$'"), "outlet[0].article_patterns[0]", "catastrophically"),
        (GOOD.replace("'/news/\\d{4}/'", "'(/|/)+x'"), "outlet[0].article_patterns[0]", "catastrophically"),
        (GOOD.replace("'/news/\\d{4}/'", "'(?:news){e<=1}'"), "outlet[0].article_patterns[0]", "fuzzy"),
        (
            GOOD.replace('"https://www.example.com/news"', '"https://www.example.com:99999/news"'),
            "outlet[0].start_urls[0]",
            "Port out of range",
        ),
        (
            GOOD.replace('"https://www.example.com/news"', '"http://[::1/news"'),
            "outlet[0].start_urls[0]",
            "not a usable URL (Invalid IPv6 URL)",
        ),
        (
            GOOD.replace('"https://www.example.com/news"', '"https://www.example.com/a news"'),
            "outlet[0].start_urls[0]",
            "whitespace",
        ),
        (
            GOOD.replace('"https://www.example.com/news"', f'"https://www.example.com/{"x" * 2100}"'),
            "outlet[0].start_urls[0]",
            "longer than 2,083 bytes",
        ),
        (GOOD.replace('["example.com"]', '["com"]'), "outlet[0].allowed_domains[0]", "top-level domain"),
        (GOOD.replace('["example.com"]', '["example.com."]'), "outlet[0].allowed_domains[0]", "domain name"),
        (GOOD.replace('["example.com"]', '["-x.example.com"]'), "outlet[0].allowed_domains[0]", "domain name"),
        (GOOD.replace("Example News", "N" * 201), "outlet[0].name", "longer than 200"),
        (GOOD.replace("Example News", "Example\\u0000News"), "outlet[0].name", "NUL"),
    ],
)
def test_broken_seed_file_names_file_and_field(tmp_path: Path, text: str, field: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SeedError) as raised:
        load_seeds(path)
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{path}: {field}: ")
    assert message in str(raised.value)


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "\nname = = 2\n")
    with pytest.raises(SeedError, match=rf"^{path}: not valid TOML: .*line 8"):
        load_seeds(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="no such seed file"):
        load_seeds(tmp_path / "nope.toml")


def test_the_outlet_name_bound_is_the_database_column() -> None:
    assert MAX_NAME_LENGTH == OutletRow.__table__.c.name.type.length == 200


def test_a_duplicate_among_many_outlets_is_found_in_linear_time(tmp_path: Path) -> None:
    """Issue 13: the check compared each name with every earlier one (100,000 outlets took over 120 s;
    a file now holds some 6,000 at most, see archive.configfile.MAX_ITEMS)."""
    outlet = 'name = "Outlet {}"\nallowed_domains = ["example.com"]\nstart_urls = ["https://example.com/"]\n'
    outlet += "article_patterns = ['/news/']\n"
    outlets = [outlet.format(i) for i in range(6_000)] + [outlet.format(7)]
    path = write(tmp_path, "".join(f"[[outlet]]\n{o}" for o in outlets))
    started = time.monotonic()
    with pytest.raises(SeedError, match=r"outlet\[6000\]\.name: duplicate outlet name 'Outlet 7' \(also outlet\[7\]\)"):
        load_seeds(path)
    assert time.monotonic() - started < 60  # a generous guard: about 2 s here


def test_a_catastrophic_pattern_is_refused_within_a_second(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("'/news/\\d{4}/'", "'(a|aa)+$'"))
    started = time.monotonic()
    with pytest.raises(SeedError, match="backtracks catastrophically"):
        load_seeds(path)
    assert time.monotonic() - started < 5  # a generous guard: 0.05 to 0.2 s


def test_a_match_that_runs_out_of_time_counts_as_no_match_and_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A pattern validation cannot prove slow still cannot hold the crawl for more than its time limit per link."""
    slow = regex.compile(r"(x+x+)+y")  # not through compile_pattern, as a hostile frontier could send it
    outlet = Outlet(name="Slow", allowed_domains=("example.com",), article_patterns=(slow,))
    url = "https://example.com/" + "x" * 5000
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="archive.seeds"):
        assert not outlet.is_article(url)
        assert not outlet.is_article(url + "z")
    assert time.monotonic() - started < 10 * PATTERN_TIMEOUT + 2  # a generous guard: two timeouts
    assert outlet.pattern_timeouts == {r"(x+x+)+y": 2}
    assert [r.getMessage() for r in caplog.records if "took over" in r.getMessage()] == [
        f"outlet 'Slow': pattern '(x+x+)+y' took over {PATTERN_TIMEOUT} s on {url}; taken as no match "
        "(further timeouts not logged)"
    ]
    assert outlet.is_article("https://example.com/xxy")


def test_patterns_given_as_sources_or_re_objects_are_compiled_with_a_time_limit() -> None:
    """The Redis frontier rebuilds outlets from pattern sources."""
    outlet = Outlet(
        name="X",
        allowed_domains=("example.com",),
        article_patterns=(re.compile(r"/news/\d{4}/"),),
        follow_patterns=("/section/$",),
    )
    assert all(isinstance(p, regex.Pattern) for p in outlet.article_patterns + outlet.follow_patterns)
    assert outlet.is_article("https://example.com/news/2019/x") and outlet.is_section("https://example.com/section/")
    with pytest.raises(ValueError, match="catastrophically"):
        Outlet(name="X", allowed_domains=("example.com",), article_patterns=("(a|aa)+$",))


@pytest.mark.parametrize(
    "pattern",
    [
        r"^https://www\.example\.com/news/\d{4}/\d{2}/\d{2}/",
        r"^https?://[^/]+/(?:[a-z0-9-]+/)*\d{4}/\d{2}/\d{2}/[a-z0-9-]+-\d+\.html$",
        r"/(?P<section>politics|world)/\d+$",
        r"\p{L}+/\d{4}",
        r"[a-z]{3,100}-\d{1,1000}",
        r"/story/\d+$",
        r"^$",
    ],
)
def test_ordinary_patterns_are_accepted(pattern: str) -> None:
    assert compile_pattern(pattern).pattern == pattern


def test_a_seed_list_sets_recheck_policies_for_all_and_per_outlet(tmp_path: Path) -> None:
    text = '[recheck]\nmax_age = "30d"\n' + GOOD + 'recheck = { steps = [{ until = "1d", every = "2h" }] }\n'
    text += GOOD.replace("Example News", "Other News").replace("example.com", "other.org")
    first, second = load_seeds(write(tmp_path, text)).outlets
    assert first.recheck.max_age.days == 30 and [s.every.seconds for s in first.recheck.steps] == [7200]
    assert second.recheck.max_age.days == 30 and len(second.recheck.steps) == 4  # the list's, then the default's
    assert first.describe()["recheck"] == first.recheck.describe()  # what warcinfo records


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ('[recheck]\nmax_age = "soon"\n' + GOOD, "recheck.max_age", "not a duration"),
        (
            GOOD + 'recheck = { steps = [{ until = "1h", every = "0s" }] }\n',
            "outlet[0].recheck.steps[0].every",
            "positive",
        ),
        (GOOD + 'recheck = "often"\n', "outlet[0].recheck", "must be a table"),
        (GOOD + "recheck = { often = true }\n", "outlet[0].recheck.often", "unknown field"),
    ],
)
def test_a_malformed_recheck_policy_names_file_and_field(tmp_path: Path, text: str, field: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SeedError, match=rf"^{re.escape(str(path))}: {re.escape(field)}: .*{message}"):
        load_seeds(path)


# -- outlets from a home page alone (issue 15) ------------------------------------------------


def test_a_name_and_a_homepage_make_an_outlet_discovered_on_its_registered_domain(tmp_path: Path) -> None:
    text = '[[outlet]]\nname = "BBC"\nhomepage = "https://www.bbc.co.uk/news"\n'
    text += '[[outlet]]\nname = "Guardian"\nhomepage = "https://www.theguardian.com/"\n'
    text += "article_patterns = ['/20\\\\d\\\\d/']\n"
    bbc, guardian = load_seeds(write(tmp_path, text)).outlets
    assert bbc.allowed_domains == ("bbc.co.uk",) and guardian.allowed_domains == ("theguardian.com",)
    assert bbc.discovered and bbc.classified and list(bbc.seeds()) == [("home", "https://www.bbc.co.uk/news")]
    assert guardian.discovered and not guardian.classified  # its patterns decide, as before
    assert bbc.owns("https://feeds.bbc.co.uk/news/rss.xml") and not bbc.owns("https://bbc.com/")


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ('[[outlet]]\nname = "X"\n', "outlet[0].allowed_domains", "required when no homepage"),
        ('[[outlet]]\nname = "X"\nhomepage = "http://127.0.0.1:8000/"\n', "outlet[0].allowed_domains", "no registered"),
        ('[[outlet]]\nname = "X"\nhomepage = "http://localhost/"\n', "outlet[0].allowed_domains", "no registered"),
        ('[[outlet]]\nname = "X"\nhomepage = "http://x.org:99999/"\n', "outlet[0].homepage", "not a usable URL"),
        ('[[outlet]]\nname = "X"\nhomepage = 3\n', "outlet[0].homepage", "must be a string"),
        ('[[outlet]]\nname = "X"\nhomepage = "http://x.org/"\npath_prefix = "news"\n', "outlet[0].path_prefix", "/"),
        (
            '[[outlet]]\nname = "X"\nhomepage = "http://x.org/"\npath_prefix = "/news/"\n',
            "outlet[0].homepage",
            "not under the outlet's path_prefix '/news/'",
        ),
        (
            '[[outlet]]\nname = "A"\nhomepage = "http://www.x.org/a/"\n'
            '[[outlet]]\nname = "B"\nhomepage = "http://x.org/b/"\n',
            "outlet[1].allowed_domains",
            "'B' and 'A' (outlet[0]) both declare 'x.org': captures there could belong to either",
        ),
        (
            '[[outlet]]\nname = "A"\nhomepage = "http://x.org/a/"\npath_prefix = "/a"\n'
            '[[outlet]]\nname = "B"\nhomepage = "http://x.org/a/b/"\npath_prefix = "/a/"\n',
            "outlet[1].allowed_domains",
            "with path_prefix '/a/'",
        ),
    ],
)
def test_a_minimal_entry_that_cannot_be_used_names_file_and_field(
    tmp_path: Path, text: str, field: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SeedError) as raised:
        load_seeds(path)
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{path}: {field}: ") and message in str(raised.value)


def test_outlets_on_one_domain_are_told_apart_by_path_and_the_most_specific_owns(tmp_path: Path) -> None:
    text = (
        '[[outlet]]\nname = "Portal"\nhomepage = "http://www.x.org/"\n'
        '[[outlet]]\nname = "Herald"\nhomepage = "http://www.x.org/herald/"\npath_prefix = "/herald"\n'
        '[[outlet]]\nname = "Local"\nhomepage = "http://news.x.org/"\nallowed_domains = ["news.x.org"]\n'
    )
    seeds = load_seeds(write(tmp_path, text))
    portal, herald, local = seeds.outlets
    assert herald.path_prefix == "/herald/" and herald.describe()["path_prefix"] == "/herald/"
    assert "path_prefix" not in portal.describe()
    owners = {
        "http://www.x.org/herald/2019/a-story": herald,
        "http://x.org/herald/": herald,
        "http://www.x.org/heraldry/": portal,  # a prefix is a directory, not a string's start
        "http://www.x.org/about": portal,
        "http://news.x.org/herald/story": local,  # the longest domain first, then the path
        "http://a.news.x.org/": local,
        "http://other.org/": None,
        "http://x.org:99999/": None,
    }
    assert {url: seeds.owner(url) for url in owners} == owners


def test_plain_text_and_csv_seed_lists(tmp_path: Path) -> None:
    text = tmp_path / "outlets.txt"
    text.write_text(
        "# press of a small country\nhttps://www.example.com/  Example News\n\nhttp://other.org/news/\n"
        "https://third.net/   # no name: the host names it\n",
        encoding="utf-8",
    )
    names = [(o.name, o.homepage, o.allowed_domains) for o in load_seeds(text).outlets]
    assert names == [
        ("Example News", "https://www.example.com/", ("example.com",)),
        ("other.org", "http://other.org/news/", ("other.org",)),
        ("third.net", "https://third.net/", ("third.net",)),
    ]
    table = tmp_path / "outlets.csv"
    table.write_text('homepage,name\nhttps://www.example.com/,"Example, Inc."\nhttp://other.org/,\n', encoding="utf-8")
    assert [o.name for o in load_seeds(table).outlets] == ["Example, Inc.", "other.org"]


@pytest.mark.parametrize(
    ("suffix", "text", "field", "message"),
    [
        (".txt", "# nothing\n\n", "", "no home pages"),
        (".txt", "https://a.org/ A\nnot-a-url\n", "line 2.homepage", "not an absolute URL"),
        (".csv", "https://a.org/,A,extra\n", "line 1", "found 3 fields"),
        (".txt", "https://a.org/ A\nhttps://www.a.org/ B\n", "line 2.allowed_domains", "both declare 'a.org'"),
        (".txt", "https://a.org/ A\nhttps://b.org/ A\n", "line 2.name", "duplicate outlet name 'A' (also line 1)"),
    ],
)
def test_a_bad_line_of_a_plain_seed_list_names_file_and_line(
    tmp_path: Path, suffix: str, text: str, field: str, message: str
) -> None:
    path = tmp_path / f"outlets{suffix}"
    path.write_bytes(text.encode())
    with pytest.raises(SeedError) as raised:
        load_seeds(path)
    assert raised.value.field == field and message in str(raised.value)
    assert str(raised.value).startswith(f"{path}: ")


def test_a_discovered_seed_list_loads_and_keeps_what_review_needs(tmp_path: Path) -> None:
    from archive.seeds import Discovered, discovered_seeds

    outlet = Outlet('Herald "Daily"', ("x.org",), (), homepage="http://x.org/h/", path_prefix="/h/")
    found = Discovered(outlet, sitemaps=["http://x.org/h/sitemap.xml"], feeds=["http://x.org/h/feed/"])
    found.shapes.update({"/h/{yyyy}/{slug}": 3, "/h/a\nb": 1})
    found.examples["/h/{yyyy}/{slug}"] = "http://x.org/h/2019/a-story-of-words"
    empty = Discovered(Outlet("Gone", ("gone.org",), (), homepage="http://gone.org/"), problem="homepage 403")
    path = tmp_path / "found.toml"
    path.write_text(discovered_seeds([found, empty], "test"), encoding="utf-8")
    herald, gone = load_seeds(path).outlets
    assert (herald.name, herald.path_prefix, herald.sitemaps, herald.feeds) == (
        'Herald "Daily"',
        "/h/",
        ("http://x.org/h/sitemap.xml",),
        ("http://x.org/h/feed/",),
    )
    assert gone.discovered and gone.homepage == "http://gone.org/"
    text = path.read_text(encoding="utf-8")
    assert "#   /h/{yyyy}/{slug}  3  http://x.org/h/2019/a-story-of-words" in text
    assert "# no articles found: homepage 403" in text and "#   /h/a?b  1" in text
