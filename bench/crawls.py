"""Whole crawls of the synthetic web: ours and its baselines, each in its own process.

- ``ours``: ``scrapy crawl news`` on the generated seed list (sitemaps, feeds and
  front pages), through the synthetic web as HTTP proxy: crawl, WARC, database and,
  unless ``archive_only``, extraction. Archive-only turns the extraction pipeline off
  (``ITEM_PIPELINES={"crawler.pipelines.ExtractionPipeline": null}``: the project
  has no switch of its own yet); article pages are still archived and indexed as
  captures, to be extracted later from the WARCs.
- ``wget -i``: ``wget --warc-file`` fetching the URL list of exactly the pages our
  crawl fetches, one after another over a keep-alive connection.
- ``wget -r``: ``wget --warc-file -r`` from each outlet's front page, following the
  section pages to every article (wget reads no sitemaps).
- ``bare``: stock Scrapy (outside the project, so none of its add-on, recorder,
  raw-head download handler, database or pipeline) fetching the same URL list with the
  same crawl settings, robots.txt policy and request headers; nothing stored.

Both wget runs send ``Accept-Encoding: gzip`` (``--compression=auto``) so the server
sends them the same bytes as to Scrapy, and go through the same proxy, so their
WARCs name the same URLs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from bench.measure import Measured, cpu_seconds, run_measured
from bench.synthweb import SynthWeb
from crawler import settings as project_settings

REPO = Path(__file__).resolve().parents[1]

#: Settings of every Scrapy crawl here (ours and the bare one): no politeness delays,
#: enough concurrency to keep a loopback server busy, quiet logs.
SCRAPY_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS": "32",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
    "RETRY_TIMES": "0",
    "LOG_LEVEL": "WARNING",
    "TELNETCONSOLE_ENABLED": "False",
    "ARCHIVE_CONTACT_URL": "http://localhost/bench",
    "EXTENSIONS": json.dumps({"crawler.extensions.statsfile.StatsFile": 0}),
}
ARCHIVE_ONLY = {"ITEM_PIPELINES": json.dumps({"crawler.pipelines.ExtractionPipeline": None})}


@dataclass
class CrawlResult:
    """One crawl: what it fetched and what that cost."""

    tool: str
    measured: Measured
    pages: int  # HTTP responses received
    bytes: int  # response bytes received (headers and bodies as sent)
    server_cpu: float  # CPU seconds the synthetic web spent serving this crawl
    warcs: list[Path] = field(default_factory=list)
    articles: int | None = None  # articles extracted into the database (whole crawl only)

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.measured.seconds

    @property
    def mb_per_s(self) -> float:
        return self.bytes / self.measured.seconds / 1e6


class WebServer:
    """The synthetic web in a process of its own (its own core, its own GIL)."""

    def __init__(self, web: SynthWeb, log_dir: Path, *options: str) -> None:
        """``options``: further arguments of ``python -m bench.synthweb serve`` (``--ignore-conditionals``)."""
        self.web = web
        log_dir.mkdir(parents=True, exist_ok=True)
        self._stderr = (log_dir / "synthweb.stderr.txt").open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.synthweb",
                "serve",
                "--outlets",
                str(web.outlets),
                "--articles",
                str(web.articles),
                "--seed",
                str(web.seed),
                *options,
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http://"):
            self.stop()
            raise RuntimeError(f"the synthetic web did not start; see {log_dir / 'synthweb.stderr.txt'}")

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.proc.pid)

    def env(self) -> dict[str, str]:
        """A child environment whose HTTP goes through the synthetic web."""
        env = dict(os.environ)
        env["http_proxy"] = env["HTTP_PROXY"] = self.url
        env.pop("no_proxy", None)
        env.pop("NO_PROXY", None)
        # Scrapy's cookie middleware loads tldextract, which would fetch the Public Suffix List
        env["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
        return env

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._stderr.close()


@contextmanager
def serving(web: SynthWeb, log_dir: Path, *options: str) -> Iterator[WebServer]:
    server = WebServer(web, log_dir, *options)
    try:
        yield server
    finally:
        server.stop()


def _scrapy_args(settings: dict[str, str]) -> list[str]:
    return [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]


def _scrapy_stats(path: Path) -> dict[str, object]:
    stats: dict[str, object] = json.loads(path.read_text())
    if stats.get("finish_reason") != "finished":
        raise RuntimeError(f"crawl did not finish: {stats.get('finish_reason')!r} ({path})")
    return stats


def crawl_ours(server: WebServer, workdir: Path, archive_only: bool, seed_toml: str | None = None) -> CrawlResult:
    """``scrapy crawl news`` of ``seed_toml`` (by default the web's own seed list, :meth:`SynthWeb.seed_toml`)."""
    workdir.mkdir(parents=True)
    seeds = workdir / "seeds.toml"
    seeds.write_text(server.web.seed_toml() if seed_toml is None else seed_toml)
    stats_file = workdir / "stats.json"
    settings = {
        **SCRAPY_SETTINGS,
        **(ARCHIVE_ONLY if archive_only else {}),
        "ARCHIVE_DATA_DIR": str(workdir / "data"),
        "STATS_FILE": str(stats_file),
    }
    command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"seeds={seeds}", *_scrapy_args(settings)]
    cpu_before = server.cpu_seconds()
    measured = run_measured(command, cwd=REPO, env=server.env(), log_dir=workdir).check()
    server_cpu = server.cpu_seconds() - cpu_before
    stats = _scrapy_stats(stats_file)
    return CrawlResult(
        tool="ours (archive only)" if archive_only else "ours",
        measured=measured,
        pages=int(stats.get("downloader/response_count", 0)),
        bytes=int(stats.get("downloader/response_bytes", 0)),
        server_cpu=server_cpu,
        warcs=sorted((workdir / "data" / "warcs").glob("*.warc.gz")),
        articles=None if archive_only else int(stats.get("extraction/articles", 0)),
    )


def crawl_bare(server: WebServer, workdir: Path, urls_to_fetch: Iterable[str] | None = None) -> CrawlResult:
    """Stock Scrapy (``bench/barespider.py``) fetching the web's crawl URLs (or ``urls_to_fetch``), keeping nothing."""
    workdir.mkdir(parents=True)
    urls = workdir / "urls.txt"
    fetched = server.web.crawl_urls() if urls_to_fetch is None else urls_to_fetch
    urls.write_text("".join(f"{url}\n" for url in fetched))
    stats_file = workdir / "stats.json"
    settings = {
        **SCRAPY_SETTINGS,
        "ROBOTSTXT_OBEY": str(project_settings.ROBOTSTXT_OBEY),
        "DEFAULT_REQUEST_HEADERS": json.dumps(project_settings.DEFAULT_REQUEST_HEADERS),
        "STATS_FILE": str(stats_file),
    }
    spider = str(REPO / "bench" / "barespider.py")
    command = [sys.executable, "-m", "scrapy", "runspider", spider, "-a", f"urls={urls}", *_scrapy_args(settings)]
    # run from the side's own folder: no scrapy.cfg there, so none of the project's settings apply
    env = {**server.env(), "PYTHONPATH": str(REPO)}
    cpu_before = server.cpu_seconds()
    measured = run_measured(command, cwd=workdir, env=env, log_dir=workdir).check()
    server_cpu = server.cpu_seconds() - cpu_before
    stats = _scrapy_stats(stats_file)
    return CrawlResult(
        tool="bare Scrapy",
        measured=measured,
        pages=int(stats.get("downloader/response_count", 0)),
        bytes=int(stats.get("downloader/response_bytes", 0)),
        server_cpu=server_cpu,
    )


def crawl_wget(server: WebServer, workdir: Path, recursive: bool) -> CrawlResult:
    workdir.mkdir(parents=True)
    web = server.web
    command = [
        "wget",
        "--quiet",
        "--compression=auto",
        "--tries=1",
        "--timeout=30",
        f"--warc-file={workdir / 'wget'}",
        "--delete-after",
        f"--directory-prefix={workdir / 'files'}",
    ]
    if recursive:
        domains = ",".join(o.host for o in web.outlet_list)
        command += ["--recursive", "--level=inf", "--span-hosts", f"--domains={domains}"]
        command += [f"{o.base}/" for o in web.outlet_list]
    else:
        urls = workdir / "urls.txt"
        urls.write_text("\n".join(web.crawl_urls()) + "\n")
        command += [f"--input-file={urls}"]
    cpu_before = server.cpu_seconds()
    measured = run_measured(command, cwd=workdir, env=server.env(), log_dir=workdir)
    server_cpu = server.cpu_seconds() - cpu_before
    if measured.returncode not in (0, 8):  # 8: some answer was an HTTP error (a 404 link)
        measured.check()
    warcs = [workdir / "wget.warc.gz"]
    pages, received = _count_responses(warcs)
    return CrawlResult(
        tool="wget -r" if recursive else "wget -i",
        measured=measured,
        pages=pages,
        bytes=received,
        server_cpu=server_cpu,
        warcs=warcs,
    )


def _count_responses(warcs: list[Path]) -> tuple[int, int]:
    """Response records and their HTTP bytes (headers and body as received)."""
    count = size = 0
    for path in warcs:
        with path.open("rb") as f:
            for record in ArchiveIterator(f, no_record_parse=True):
                if record.rec_type == "response":
                    count += 1
                    size += record.length
    return count, size


@dataclass(frozen=True)
class WarcCheck:
    """Whether a crawl's WARCs are valid and hold every article page with status 200."""

    valid: bool
    articles_found: int
    articles_expected: int
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.valid and self.articles_found == self.articles_expected


def check_warcs(warcs: list[Path], web: SynthWeb) -> WarcCheck:
    """``warcio check`` (record digests) on every file, then article coverage."""
    if not warcs:
        return WarcCheck(False, 0, web.outlets * web.articles, "no WARC file")
    done = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", *map(str, warcs)], capture_output=True, text=True, check=False
    )
    expected = set(web.article_urls())
    found = set()
    for path in warcs:
        with path.open("rb") as f:
            for record in ArchiveIterator(f):
                if record.rec_type == "response" and record.http_headers.get_statuscode() == "200":
                    found.add(record.rec_headers.get_header("WARC-Target-URI"))
    return WarcCheck(done.returncode == 0, len(expected & found), len(expected), (done.stdout + done.stderr)[-500:])
