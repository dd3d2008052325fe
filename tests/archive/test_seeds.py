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
    text += GOOD.replace("Example News", "Other News")
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
