"""The benchmark suite: every benchmark beside its baseline, in the same run, one table.

    python -m bench                      # small size, under 10 minutes on 2 cores
    python -m bench --size full --runs 5 # the sizes of issue 8 (5,000 and 20,000 pages)
    python -m bench --only crawl,warc    # some groups only

Each run measures our side and its baselines one after the other; a benchmark's
figures are medians over the runs and its ratio is the median of the per-run
ratios. Peak memory is the largest summed RSS of a side's process tree.

It is long because it is the suite's one table: every benchmark's runner is
here beside its baselines', so what is compared with what is read in one place.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from archive.cli.table import table
from bench.crawls import (
    REPO,
    CrawlResult,
    WarcCheck,
    WebServer,
    check_warcs,
    crawl_bare,
    crawl_ours,
    crawl_wget,
    serving,
)
from bench.measure import Measured, machine, median, run_measured
from bench.synthweb import SynthWeb, measure_server

GROUPS = ("crawl", "extract", "warc", "lookup", "memory", "rechecks")
#: Groups run only when asked for (--only): longer than the small suite's ten minutes on 2 cores
#: (the recheck group builds databases of a million scheduled articles on both backends).
ON_REQUEST = ("rechecks",)


@dataclass(frozen=True)
class Size:
    outlets: int
    articles: int  # per outlet, in the crawl benchmarks
    memory_pages: tuple[int, int]  # article pages of the small and the large memory crawl
    extract_pages: int
    warc_pages: int
    captures: tuple[int, ...]
    lookups: int
    runs: int


SIZES = {
    "small": Size(10, 100, (1000, 4000), 200, 1000, (10**4, 10**5, 10**6), 2000, 3),
    "full": Size(20, 250, (5000, 20000), 1000, 5000, (10**4, 10**5, 10**6), 10000, 5),
}


@dataclass
class Row:
    benchmark: str
    ours: str
    baseline: str
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    rss: str = ""  # peak memory, ours / baseline
    group: str = ""  # the table lists rows by group

    def cells(self) -> list[str]:
        met = "" if self.met is None else ("yes" if self.met else "NO")
        ratio = "" if self.ratio is None else f"{self.ratio:.2f}"
        return [self.benchmark, self.ours, self.baseline, ratio, self.target, met, self.rss]


HEADERS = ["benchmark", "ours", "baseline", "ratio", "target", "met?", "peak RSS MB (ours / base)"]


@dataclass
class Suite:
    size: Size
    runs: int
    workdir: Path
    keep: bool
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)
    extraction_rates: dict[str, float] = field(default_factory=dict)
    warc_checks: dict[str, WarcCheck] = field(default_factory=dict)
    whole_crawl_peak: float | None = None
    group: str = ""

    def add(self, row: Row) -> None:
        """A row of the table, in the section of the group being run."""
        row.group = self.group
        self.rows.append(row)

    def log(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def scratch(self, name: str) -> Path:
        path = self.workdir / name
        if path.exists():
            shutil.rmtree(path)
        return path

    def done_with(self, path: Path) -> None:
        """Drop a side's output (WARCs, database) unless --keep: big crawls fill disks."""
        if not self.keep:
            shutil.rmtree(path, ignore_errors=True)

    # -- crawls ---------------------------------------------------------------------------
    def crawl(self) -> None:
        web = SynthWeb(self.size.outlets, self.size.articles)
        has_wget = shutil.which("wget") is not None
        if not has_wget:
            self.notes.append("wget is not installed (make bench-setup): the wget baselines were skipped.")
        sides: dict[str, Callable[[WebServer, Path], CrawlResult]] = {
            "ours": lambda server, d: crawl_ours(server, d, archive_only=False),
            "archive": lambda server, d: crawl_ours(server, d, archive_only=True),
            "bare": crawl_bare,
        }
        if has_wget:
            sides["wget-i"] = lambda server, d: crawl_wget(server, d, recursive=False)
            sides["wget-r"] = lambda server, d: crawl_wget(server, d, recursive=True)
        runs: list[dict[str, CrawlResult]] = []
        with serving(web, self.workdir / "server") as server:
            self.log(f"synthetic web: {web.outlets} outlets x {web.articles} articles at {server.url}")
            throughput = measure_server(server.url, list(web.article_urls()), clients=os.cpu_count() or 2)
            for run in range(self.runs):
                results = {}
                for name, side in sides.items():
                    directory = self.scratch(f"crawl-{run}-{name}")
                    result = side(server, directory)
                    self.log(
                        f"run {run + 1}/{self.runs} {result.tool}: {result.pages} pages in "
                        f"{result.measured.seconds:.1f} s ({result.pages_per_s:.0f} pages/s, "
                        f"server CPU {result.server_cpu:.1f} s)"
                    )
                    if run == 0 and result.warcs:
                        check = check_warcs(result.warcs, web)
                        self.warc_checks[result.tool] = check
                        self.results[f"warc check {result.tool}"] = asdict(check)
                        self.log(
                            f"  WARCs valid: {check.valid}, articles {check.articles_found}/{check.articles_expected}"
                        )
                    self.done_with(directory)
                    results[name] = result
                runs.append(results)
        self.results["crawl"] = {
            name: [
                {
                    "pages": r[name].pages,
                    "bytes": r[name].bytes,
                    "seconds": r[name].measured.seconds,
                    "cpu_seconds": r[name].measured.cpu_seconds,
                    "own_cpu_seconds": r[name].measured.own_cpu_seconds,
                    "peak_rss": r[name].measured.peak_rss,
                    "server_cpu": r[name].server_cpu,
                    "articles": r[name].articles,
                }
                for r in runs
            ]
            for name in sides
        }
        self.whole_crawl_peak = median([r["ours"].measured.peak_rss for r in runs])
        self._crawl_rows(runs, has_wget)
        fastest = max(median([r[name].pages_per_s for r in runs]) for name in sides)
        self.add(
            Row(
                f"synthetic web server, pages/s ({throughput.clients} clients, cold)",
                f"{throughput.requests_per_second:.0f} p/s, {throughput.mb_per_second:.0f} MB/s",
                f"fastest crawler {fastest:.0f} p/s",
                throughput.requests_per_second / fastest,
                ">= 2 (not the bottleneck)",
                throughput.requests_per_second >= 2 * fastest,
            )
        )
        shares = ", ".join(
            f"{runs[0][name].tool} {max(r[name].server_cpu / r[name].measured.seconds for r in runs):.0%}"
            for name in sides
        )
        self.notes.append(f"synthetic web's CPU during each crawl, at most (of one core): {shares}")

        def cores(name: str, own: bool = False) -> float:
            return median(
                [(m.own_cpu_seconds if own else m.cpu_seconds) / m.seconds for m in (r[name].measured for r in runs)]
            )

        used = ", ".join(f"{runs[0][name].tool} {cores(name):.2f}" for name in sides)
        self.notes.append(
            f"cores used by each crawl (CPU s / wall s, median): {used}; of the whole crawl's, the crawler "
            f"process {cores('ours', own=True):.2f} and its archiver and extraction processes "
            f"{cores('ours') - cores('ours', own=True):.2f}"
        )

    def _crawl_rows(self, runs: list[dict[str, CrawlResult]], has_wget: bool) -> None:
        pages = runs[0]["ours"].pages

        def rate(name: str) -> str:
            return (
                f"{median([r[name].pages_per_s for r in runs]):.0f} p/s, "
                f"{median([r[name].mb_per_s for r in runs]):.1f} MB/s"
            )

        def rss(*names: str) -> str:
            return " / ".join(f"{median([r[n].measured.peak_rss for r in runs]) / 1e6:.0f}" for n in names)

        def ratio(ours: str, base: str) -> float:
            return median([r[ours].pages_per_s / r[base].pages_per_s for r in runs])

        baselines = [("bare", "bare Scrapy")]
        if has_wget:
            baselines = [("wget-i", "wget -i"), ("wget-r", "wget -r"), *baselines]
        for base, label in baselines:
            self.add(
                Row(
                    f"whole crawl, {pages} pages, vs {label}",
                    rate("ours"),
                    rate(base),
                    ratio("ours", base),
                    rss=rss("ours", base),
                )
            )
        if has_wget:
            faster = max(("wget-i", "wget-r"), key=lambda n: median([r[n].pages_per_s for r in runs]))
            value = ratio("archive", faster)
            self.add(
                Row(
                    f"archive-only crawl vs {faster.replace('-', ' -')} (faster wget)",
                    rate("archive"),
                    rate(faster),
                    value,
                    ">= 1.5",
                    value >= 1.5,
                    rss("archive", faster),
                )
            )
        value = ratio("archive", "bare")
        self.add(
            Row(
                "archive-only crawl vs bare Scrapy",
                rate("archive"),
                rate("bare"),
                value,
                ">= 0.8",
                value >= 0.8,
                rss("archive", "bare"),
            )
        )
        checks = {tool: "ok" if check.ok else "FAILED" for tool, check in self.warc_checks.items()}
        self.add(
            Row(
                "same pages in valid WARCs (warcio check; every article, status 200)",
                ", ".join(f"{tool} {state}" for tool, state in checks.items() if "wget" not in tool),
                ", ".join(f"{tool} {state}" for tool, state in checks.items() if "wget" in tool),
                target="all valid and complete",
                met=all(check.ok for check in self.warc_checks.values()),
            )
        )
        self.results["whole_articles_per_s"] = median(
            [(r["ours"].articles or 0) / r["ours"].measured.seconds for r in runs]
        )

    # -- extraction ---------------------------------------------------------------------------
    def _micro(self, name: str, args: Sequence[str]) -> tuple[dict[str, Any], Measured]:
        directory = self.scratch(name)
        measured = run_measured([sys.executable, "-m", "bench.micro", *args], cwd=REPO, log_dir=directory).check()
        result: dict[str, Any] = json.loads(measured.stdout.strip().splitlines()[-1])
        self.done_with(directory)
        return result, measured

    def extract(self) -> None:
        cores = os.cpu_count() or 1
        pages = str(self.size.extract_pages)
        sides = {
            (impl, workers): ["extract", "--impl", impl, "--workers", str(workers), "--pages", pages]
            for workers in (1, cores)
            for impl in ("ours", "plain")
        }
        runs = []
        for run in range(self.runs):
            results = {}
            for key, args in sides.items():
                results[key] = self._micro(f"extract-{run}-{key[0]}-{key[1]}", args)
                rate = results[key][0]["pages_per_s"]
                self.log(f"run {run + 1}/{self.runs} extraction {key[0]} x{key[1]}: {rate:.1f} pages/s")
            runs.append(results)
        self.results["extract"] = {f"{k[0]} x{k[1]}": [r[k][0] for r in runs] for k in sides}
        for workers in (1, cores):
            ours, plain = ("ours", workers), ("plain", workers)
            self.add(
                Row(
                    f"extraction, {workers} process{'es' if workers > 1 else ''}: ours vs trafilatura.extract",
                    f"{median([r[ours][0]['pages_per_s'] for r in runs]):.1f} p/s",
                    f"{median([r[plain][0]['pages_per_s'] for r in runs]):.1f} p/s",
                    median([r[ours][0]["pages_per_s"] / r[plain][0]["pages_per_s"] for r in runs]),
                    rss=f"{median([r[ours][1].peak_rss for r in runs]) / 1e6:.0f} / "
                    f"{median([r[plain][1].peak_rss for r in runs]) / 1e6:.0f}",
                )
            )
            self.extraction_rates[str(workers)] = median([r[ours][0]["pages_per_s"] for r in runs])
        if cores > 1:
            self.add(
                Row(
                    f"extraction scaling, ours: {cores} processes vs 1",
                    f"{self.extraction_rates[str(cores)]:.1f} p/s",
                    f"{self.extraction_rates['1']:.1f} p/s",
                    median([r[("ours", cores)][0]["pages_per_s"] / r[("ours", 1)][0]["pages_per_s"] for r in runs]),
                )
            )

    def whole_vs_extraction(self) -> None:
        """The whole-crawl targets, against what extraction alone allows."""
        whole = self.results.get("whole_articles_per_s")
        cores = str(os.cpu_count() or 1)
        if whole is None or cores not in self.extraction_rates:
            return
        self.group = "crawl"  # these rows belong beside the other whole-crawl ones
        all_cores = self.extraction_rates[cores]
        one = self.extraction_rates["1"]
        self.add(
            Row(
                f"whole crawl, articles/s, vs extraction alone on {cores} cores",
                f"{whole:.1f} a/s",
                f"{all_cores:.1f} p/s",
                whole / all_cores,
                ">= 0.9",
                whole / all_cores >= 0.9,
            )
        )
        self.add(
            Row(
                "whole crawl, articles/s, vs extraction alone on 1 core",
                f"{whole:.1f} a/s",
                f"{one:.1f} p/s",
                whole / one,
                f">= 1.8 (on {cores} cores)",
                whole / one >= 1.8 if cores == "2" else None,
            )
        )

    # -- WARC writing ---------------------------------------------------------------------------
    def warc(self) -> None:
        pages = str(self.size.warc_pages)
        sides = {
            "ours": ["warc", "--impl", "ours", "--pages", pages],
            "gzip-9": ["warc", "--impl", "gzip", "--level", "9", "--pages", pages],
            "gzip-6": ["warc", "--impl", "gzip", "--level", "6", "--pages", pages],
        }
        runs = []
        for run in range(self.runs):
            results = {name: self._micro(f"warc-{run}-{name}", args) for name, args in sides.items()}
            self.log(
                f"run {run + 1}/{self.runs} WARC writing: "
                + ", ".join(f"{n} {r[0]['mb_per_s']:.1f} MB/s" for n, r in results.items())
            )
            runs.append(results)
        self.results["warc"] = {name: [r[name][0] for r in runs] for name in sides}
        ours_mb = median([r["ours"][0]["mb_per_s"] for r in runs])
        for base in ("gzip-9", "gzip-6"):
            value = median([r["ours"][0]["mb_per_s"] / r[base][0]["mb_per_s"] for r in runs])
            level = base.split("-")[1]
            self.add(
                Row(
                    f"WARC writing ({runs[0]['ours'][0]['exchanges']} exchanges, level {runs[0]['ours'][0]['level']}) "
                    f"vs gzip -{level}",
                    f"{ours_mb:.1f} MB/s",
                    f"{median([r[base][0]['mb_per_s'] for r in runs]):.1f} MB/s",
                    value,
                    ">= 0.83 (time <= 1.2x)",
                    value >= 1 / 1.2,
                )
            )

    # -- capture lookup ------------------------------------------------------------------------
    def lookup(self) -> None:
        for captures in self.size.captures:
            args = ["lookup", "--captures", str(captures), "--lookups", str(self.size.lookups)]
            result, measured = self._micro(f"lookup-{captures}", [*args, "--repeats", str(self.runs)])
            self.results[f"lookup {captures}"] = result
            us, cdxj_us = result["us_per_lookup"], result.get("cdxj_us_per_lookup")
            self.log(f"lookup at {captures} captures: {us:.0f} us (CDXJ: {cdxj_us or 0:.0f} us)")
            self.add(
                Row(
                    f"capture lookup by URL and time, {captures:.0e} captures: SQLite vs CDXJ".replace("e+0", "e"),
                    f"{us:.0f} us ({1e6 / us:.0f}/s)",
                    f"{cdxj_us:.0f} us ({1e6 / cdxj_us:.0f}/s)" if cdxj_us else "no CDXJ index yet",
                    cdxj_us / us if cdxj_us else None,
                    rss=f"{measured.peak_rss / 1e6:.0f} (both)",
                )
            )
            self.notes.append(
                f"lookup, {captures} captures: database built in {result['build_seconds']:.1f} s "
                f"({result['database_mb']:.0f} MB)"
                + (f", CDXJ index in {result['cdxj_build_seconds']:.1f} s" if cdxj_us else "")
            )

    # -- rechecks (bench/rechecks.py) -----------------------------------------------------------
    def rechecks(self) -> None:
        from bench import rechecks  # here: it imports this module's Row

        articles = self.size.outlets * self.size.articles
        rechecks.run(self, articles, self.size.outlets, self.size.captures, ("sqlite", "postgresql"))

    # -- memory ------------------------------------------------------------------------------
    def memory(self) -> None:
        small, large = self.size.memory_pages
        outlets = self.size.outlets
        peaks = {}
        for pages in (small, large):
            if pages == self.size.outlets * self.size.articles and self.whole_crawl_peak is not None:
                peaks[pages] = self.whole_crawl_peak  # measured by the crawl benchmark already
                continue
            web = SynthWeb(outlets, pages // outlets)
            with serving(web, self.workdir / f"server-{pages}") as server:
                directory = self.scratch(f"memory-{pages}")
                result = crawl_ours(server, directory, archive_only=False)
                self.done_with(directory)
            peaks[pages] = result.measured.peak_rss
            self.log(f"memory: whole crawl of {result.pages} pages peaked at {result.measured.peak_rss / 1e6:.0f} MB")
            self.notes.append(
                f"memory crawl of {result.pages} pages: {result.pages_per_s:.0f} pages/s, "
                f"{(result.articles or 0) / result.measured.seconds:.1f} articles/s"
            )
        value = peaks[large] / peaks[small]
        self.add(
            Row(
                f"peak memory, whole crawl, {large} vs {small} pages",
                f"{peaks[large] / 1e6:.0f} MB",
                f"{peaks[small] / 1e6:.0f} MB",
                value,
                "<= 1.2",
                value <= 1.2,
            )
        )
        self.results["memory"] = {str(k): v for k, v in peaks.items()}


def render(suite: Suite, info: dict[str, str], size_name: str, markdown: bool) -> str:
    cells = [row.cells() for row in sorted(suite.rows, key=lambda row: GROUPS.index(row.group))]
    described = (
        f"size {size_name}, medians of {suite.runs} runs; machine: {info['cpus']} x {info['cpu']}, {info['ram']} RAM, "
        f"Python {info['python']}, {info['os']}, {info['wget']}; load average {info['load']}"
    )
    if markdown:
        lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
        return described + "\n\n" + "\n".join(lines) + "\n\n" + "\n".join(f"- {n}" for n in suite.notes)
    return described + "\n\n" + table(HEADERS, cells) + "\n\n" + "\n".join(f"- {n}" for n in suite.notes)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--runs", type=int, help="runs per benchmark (default: 3 small, 5 full)")
    parser.add_argument(
        "--only", help=f"comma-separated groups of {', '.join(GROUPS)} (default: all but {', '.join(ON_REQUEST)})"
    )
    parser.add_argument("--workdir", type=Path, help="where crawls write (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep every crawl's WARCs and database")
    parser.add_argument("--json", type=Path, help="write every measurement here")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (for the README)")
    args = parser.parse_args(argv)
    groups = args.only.split(",") if args.only else [g for g in GROUPS if g not in ON_REQUEST]
    if unknown := set(groups) - set(GROUPS):
        parser.error(f"unknown group(s) {', '.join(sorted(unknown))}; known: {', '.join(GROUPS)}")
    size = SIZES[args.size]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="newsarchive-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    suite = Suite(size, args.runs or size.runs, workdir, args.keep)
    info = machine()
    try:
        for group in GROUPS:
            if group in groups:
                suite.group = group
                getattr(suite, group)()
        suite.whole_vs_extraction()
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    # other work on the machine skews every figure: say how busy it was
    info["load"] = f"{info['load']} at start, {os.getloadavg()[0]:.2f} at end (1 min)"
    output = render(suite, info, args.size, args.markdown)
    print(output)
    if args.json:
        everything = {"machine": info, "rows": [asdict(r) for r in suite.rows], "results": suite.results}
        args.json.write_text(json.dumps({**everything, "notes": suite.notes}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
