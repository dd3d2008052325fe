"""Whole ``scrapy crawl news`` runs of the discovery outlets from home-page-only seed entries: every article
of each outlet is found and counted and no other page is, each capture belongs to its outlet in the database
and the WARC's metadata records alike (a rebuild restores both), why each candidate page was or was not
counted is kept, home pages that lead nowhere get one line each, and discovery alone writes a seed list."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db import Article, Capture, Outlet, Url, open_database, session_factory
from archive.db.ingester import Ingester
from archive.db.models import CaptureDecision, FetchError
from archive.format import ArticleRecord, DecisionRecord, parse_metadata
from archive.rebuild import rebuild
from archive.seeds import load_seeds
from archive.warc.files import warc_files
from archive.warc.reader import iter_records
from tests.conftest import REPO, TEST_CRAWL_SETTINGS
from tests.discoveryweb import OUTLETS, DiscoveryWeb
from tests.discoveryweb.outlets import MOVED_HOMEPAGE
from tests.fixtureweb.__main__ import proxy_env

EVERY_ARTICLE = frozenset().union(*(outlet.articles for outlet in OUTLETS))


@dataclass
class Crawl:
    data_dir: Path
    returncode: int
    log: str

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'archive.db'}"


def seed_toml() -> str:
    """The outlets as a researcher with only their home pages writes them (the twins told apart by path)."""
    entries = []
    for outlet in OUTLETS:
        entry = f'[[outlet]]\nname = "{outlet.name}"\nhomepage = "{outlet.homepage}"\n'
        if outlet.scope.count("/") > 3:  # a scope below the host's root: the twins
            entry += f'path_prefix = "/{outlet.scope.split("/", 3)[3]}"\n'
        entries.append(entry)
    return "\n".join(entries)


def run(web: DiscoveryWeb, command: list[str], data_dir: Path, direct: str = "") -> Crawl:
    """Run a command through the discovery web as proxy; ``direct``: hosts reached without it (``no_proxy``)."""
    env = proxy_env(web.url)
    env["NEWSARCHIVE_DATA"] = str(data_dir)
    if direct:
        env["no_proxy"] = direct
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    return Crawl(data_dir, done.returncode, done.stdout + done.stderr)


def crawl(web: DiscoveryWeb, data_dir: Path, seeds: Path, *args: str, direct: str = "") -> Crawl:
    command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"seeds={seeds}", *args]
    for name, value in {**TEST_CRAWL_SETTINGS, "ARCHIVE_DATA_DIR": str(data_dir)}.items():
        command += ["-s", f"{name}={value}"]
    return run(web, command, data_dir, direct)


@pytest.fixture(scope="module")
def web() -> Iterator[DiscoveryWeb]:
    with DiscoveryWeb() as served:
        yield served


@pytest.fixture(scope="module")
def done(web: DiscoveryWeb, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    folder = tmp_path_factory.mktemp("discovery-crawl")
    seeds = folder / "seeds.toml"
    seeds.write_text(seed_toml(), encoding="utf-8")
    finished = crawl(web, folder / "data", seeds)
    assert finished.returncode == 0, finished.log[-5000:]
    return finished


@pytest.fixture(scope="module")
def session(done: Crawl) -> Iterator[Session]:
    engine = open_database(done.database_url)
    with session_factory(engine)() as opened:
        yield opened
    engine.dispose()


def articles_by_outlet(session: Session) -> dict[str | None, set[str]]:
    found: dict[str | None, set[str]] = {}
    query = select(Url.url, Outlet.name).join(Article, Article.url_id == Url.id)
    for url, name in session.execute(query.outerjoin(Outlet, Outlet.id == Article.outlet_id)):
        found.setdefault(name, set()).add(url)
    return found


def url_outlets(session: Session) -> dict[str, str | None]:
    query = select(Url.url, Outlet.name).outerjoin(Outlet, Outlet.id == Url.outlet_id)
    return dict(session.execute(query).all())


def test_every_article_of_each_outlet_is_counted_and_nothing_else(session: Session) -> None:
    assert articles_by_outlet(session) == {outlet.name: set(outlet.articles) for outlet in OUTLETS}


def test_each_capture_belongs_to_the_outlet_owning_it_most_specifically(session: Session) -> None:
    owners = url_outlets(session)
    captured = set(session.scalars(select(Url.url).join(Capture, Capture.url_id == Url.id)))
    for outlet in OUTLETS:
        for url in captured & (outlet.articles | outlet.pages | outlet.listings | outlet.others):
            # the twins' shared portal, legal pages and robots.txt are under neither title's path
            shared = sum(url in o.pages | o.others for o in OUTLETS) > 1
            assert owners[url] == (None if shared else outlet.name), url


def test_the_warc_metadata_records_name_the_outlets_the_database_does(done: Crawl, session: Session) -> None:
    owners = url_outlets(session)
    captures = dict(session.execute(select(Capture.record_id, Url.url).join(Url, Url.id == Capture.url_id)).all())
    named: dict[str, tuple[str, str | None]] = {}
    for path in warc_files([done.data_dir / "warcs"]):
        for record in iter_records(path):
            meta = parse_metadata(record.data) if record.rec_type == "metadata" else None
            if isinstance(meta, ArticleRecord | DecisionRecord):
                url = captures[record.refers_to]
                assert meta.outlet == owners[url], url
                named[url] = (type(meta).__name__, meta.outlet)
    assert {url for url, (kind, _) in named.items() if kind == "ArticleRecord"} == EVERY_ARTICLE


def test_a_page_that_only_looks_like_an_article_is_archived_and_not_counted_and_says_why(session: Session) -> None:
    decoys = frozenset().union(*(outlet.decoys for outlet in OUTLETS))
    assert decoys
    decided = dict(session.execute(select(Url.url, CaptureDecision).join(Url, Url.id == CaptureDecision.url_id)).all())
    assert {url for url, d in decided.items() if d.is_article} == EVERY_ARTICLE
    assert {url for url, d in decided.items() if not d.is_article} == decoys
    for decoy in decoys:
        assert decided[decoy].rule == "the page declares itself something else than an article"
        assert decided[decoy].evidence["url"]["is_article"] is True  # its URL alone would have been taken
        assert "CollectionPage" in decided[decoy].evidence["page"]["jsonld_types"]
        assert session.scalar(select(Capture.status).join(Url).where(Url.url == decoy)) == 200


def test_a_rebuild_from_the_warcs_restores_articles_outlets_and_decisions(
    done: Crawl, session: Session, tmp_path: Path
) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'rebuilt.db'}")
    try:
        report = rebuild(Ingester(session_factory(engine)), warc_files([done.data_dir / "warcs"]))
        assert report.damaged == []
        with session_factory(engine)() as rebuilt:
            assert articles_by_outlet(rebuilt) == articles_by_outlet(session)
            assert url_outlets(rebuilt) == url_outlets(session)
            decisions = select(Url.url, CaptureDecision.is_article, CaptureDecision.rule, CaptureDecision.shape)
            decisions = decisions.join(Url, Url.id == CaptureDecision.url_id)
            assert set(rebuilt.execute(decisions).all()) == set(session.execute(decisions).all())
    finally:
        engine.dispose()


def test_home_pages_leading_nowhere_get_one_line_each_and_the_crawl_goes_on(web: DiscoveryWeb, tmp_path: Path) -> None:
    seeds = tmp_path / "homepages.txt"
    seeds.write_text(
        "# outlets with one thing wrong each, and one right\n"
        "http://www.drupal-courier.org/gone Gone Courier\n"
        "http://www.wp-ledger.org/feed/\n"
        f"{MOVED_HOMEPAGE}  Moved Gazette\n"
        "http://www.plain-chronicle.org/nowhere/ Nowhere Chronicle\n"
        f"{OUTLETS[3].homepage} {OUTLETS[3].name}\n",
        encoding="utf-8",
    )
    finished = crawl(web, tmp_path / "data", seeds)
    assert finished.returncode == 0, finished.log[-5000:]
    assert "Traceback" not in finished.log
    lines = [line.split("] WARNING: ", 1)[1] for line in finished.log.splitlines() if "no articles found" in line]
    assert sorted(lines) == [
        "Gone Courier: no articles found: homepage 404",
        f"Moved Gazette: no articles found: homepage redirects off the outlet's domains, to {OUTLETS[3].homepage}",
        "Nowhere Chronicle: no articles found: no feeds, no sitemap and no article links",
        "wp-ledger.org: no articles found: homepage is not HTML (application/rss+xml; charset=UTF-8)",
    ]
    engine = open_database(finished.database_url)
    try:
        with session_factory(engine)() as session:
            assert articles_by_outlet(session) == {OUTLETS[3].name: set(OUTLETS[3].articles)}
    finally:
        engine.dispose()


def test_a_home_page_refusing_connections_gets_its_line_and_the_crawl_goes_on(
    web: DiscoveryWeb, tmp_path: Path
) -> None:
    # a socket bound and not listening: the port stays this test's, and every connection to it is refused
    with socket.socket() as refusing:
        refusing.bind(("127.0.0.1", 0))
        homepage = f"http://127.0.0.1:{refusing.getsockname()[1]}/"
        seeds = tmp_path / "seeds.toml"
        seeds.write_text(
            f'[[outlet]]\nname = "Refusing Post"\nhomepage = "{homepage}"\nallowed_domains = ["127.0.0.1"]\n\n'
            f'[[outlet]]\nname = "{OUTLETS[3].name}"\nhomepage = "{OUTLETS[3].homepage}"\n',
            encoding="utf-8",
        )
        # straight to the closed port: the discovery web, as a proxy, would answer for it
        finished = crawl(web, tmp_path / "data", seeds, direct="127.0.0.1")
    assert finished.returncode == 0, finished.log[-5000:]
    assert "Spider error processing" not in finished.log and "Traceback" not in finished.log
    # Scrapy's own lines (retries given up, robots.txt unread) name only the refusing host
    errors = [line for line in finished.log.splitlines() if "] ERROR: " in line]
    assert errors and all(homepage in line for line in errors), errors
    lines = [line.split("] WARNING: ", 1)[1] for line in finished.log.splitlines() if "no articles found" in line]
    assert lines == [
        "Refusing Post: no articles found: homepage not fetched: "
        "DownloadConnectionRefusedError: Connection was refused by other side: 111: Connection refused."
    ]
    engine = open_database(finished.database_url)
    try:
        with session_factory(engine)() as session:
            assert articles_by_outlet(session) == {OUTLETS[3].name: set(OUTLETS[3].articles)}
            # the refused fetch is kept as what happened to the home page
            fetch_errors = session.execute(
                select(Url.url, FetchError.error).join(Url, Url.id == FetchError.url_id)
            ).all()
    finally:
        engine.dispose()
    assert [(url, error.split(":", 1)[0]) for url, error in fetch_errors] == [
        (homepage, "DownloadConnectionRefusedError")
    ]


def test_discovery_alone_writes_a_seed_list_that_loads(web: DiscoveryWeb, tmp_path: Path) -> None:
    output = tmp_path / "found.toml"
    settings = [arg for name, value in TEST_CRAWL_SETTINGS.items() for arg in ("-s", f"{name}={value}")]
    homepages = [outlet.homepage for outlet in OUTLETS[:6]]
    with web.lock:
        web.requests.clear()
    cli = "import sys; from archive.cli import main; sys.exit(main())"
    command = [sys.executable, "-c", cli, "seeds", "discover", *homepages, "-o", str(output), *settings]
    finished = run(web, command, tmp_path / "data")
    assert finished.returncode == 0, finished.log[-5000:]
    found = {outlet.homepage: outlet for outlet in load_seeds(output).outlets}
    text = output.read_text(encoding="utf-8")
    for outlet in OUTLETS[:6]:
        seed = found[outlet.homepage]
        assert set(seed.sitemaps) == set(outlet.sitemaps), outlet.name
        assert set(seed.feeds) == set(outlet.feeds) | set(outlet.section_feeds), outlet.name
        assert set(seed.start_urls) == set(outlet.sections), outlet.name
        assert not seed.article_patterns and not seed.discovered
    assert "#   /{yyyy}/{mm}/{dd}/{slug}  7  http://www.wp-ledger.org/2019/" in text  # shape, URLs, example
    # discovery fetched no article
    assert not EVERY_ARTICLE & set(web.requests)
    assert 'name = "wp-ledger.org"' in text  # a home page's host names an outlet given without a name
