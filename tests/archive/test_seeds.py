from pathlib import Path

import pytest

from archive.seeds import SeedError, load_seeds

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
