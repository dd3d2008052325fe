"""What discovery and article classification cost per page, beside the hand-written patterns they replace.

    python -m bench.discovery [--outlets N] [--articles M] [--repeats R]

On the synthetic web's front and section pages (:mod:`bench.synthweb`), both
sides extract the page's links as the spider does (Scrapy's ``LinkExtractor``);
the baseline then matches each link against the outlet's ``article_patterns``
(``Outlet.is_article``, as the seed list compiles them), ours classifies each
link (:func:`archive.urlshape.classify_url`, its cache emptied before each
pass, so only links repeated across pages hit it) and reads the page for
feeds and sections (:func:`crawler.discovery.page_findings`). Prints one JSON
line: CPU milliseconds per page for each side, their ratio, and microseconds
per URL for the classification alone against the pattern match alone.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from scrapy.http import HtmlResponse
from scrapy.linkextractors import LinkExtractor

from archive import urlshape
from archive.seeds import load_seeds
from bench.synthweb import SynthWeb
from crawler.discovery import page_findings, site_scope


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outlets", type=int, default=10)
    parser.add_argument("--articles", type=int, default=300, help="per outlet")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    web = SynthWeb(args.outlets, args.articles)
    with tempfile.TemporaryDirectory() as folder:
        seeds = Path(folder) / "seeds.toml"
        seeds.write_text(web.seed_toml(), encoding="utf-8")
        outlets = load_seeds(seeds).outlets
    pages = []  # (outlet, response)
    for outlet, synthetic in zip(outlets, web.outlet_list, strict=True):
        base = synthetic.base
        bodies = [(f"{base}/", web.front_html(synthetic.index))]
        for section in synthetic.sections:
            bodies.append((f"{base}/{section}/", web.section_html(synthetic.index, section, 1)))
        for url, body in bodies:
            pages.append((outlet, HtmlResponse(url, body=body, encoding="utf-8")))
    extractor = LinkExtractor(unique=True)
    links = [[link.url for link in extractor.extract_links(response)] for _, response in pages]

    def baseline() -> None:
        for outlet, response in pages:
            for link in extractor.extract_links(response):
                outlet.is_article(link.url)

    def ours() -> None:
        urlshape._classify.cache_clear()
        for _, response in pages:
            for link in extractor.extract_links(response):
                urlshape.classify_url(link.url)
            page_findings(response.url, response.body, site_scope(response.url))

    def patterns_only() -> None:
        for (outlet, _), urls in zip(pages, links, strict=True):
            for url in urls:
                outlet.is_article(url)

    def classification_only() -> None:
        urlshape._classify.cache_clear()
        for urls in links:
            for url in urls:
                urlshape.classify_url(url)

    timings = {name: _cpu(run, args.repeats) for name, run in [
        ("baseline", baseline), ("ours", ours), ("patterns", patterns_only), ("classification", classification_only),
    ]}  # fmt: skip
    count = sum(map(len, links))
    print(
        json.dumps(
            {
                "pages": len(pages),
                "links": count,
                "baseline_ms_per_page": round(timings["baseline"] / len(pages) * 1e3, 3),
                "ours_ms_per_page": round(timings["ours"] / len(pages) * 1e3, 3),
                "page_ratio": round(timings["ours"] / timings["baseline"], 2),
                "pattern_us_per_url": round(timings["patterns"] / count * 1e6, 2),
                "classification_us_per_url": round(timings["classification"] / count * 1e6, 2),
                "url_ratio": round(timings["classification"] / timings["patterns"], 2),
            }
        )
    )


def _cpu(run: object, repeats: int) -> float:
    """The median CPU time of ``repeats`` runs, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        run()  # type: ignore[operator]
        times.append(time.process_time() - start)
    return statistics.median(times)


if __name__ == "__main__":
    main()
