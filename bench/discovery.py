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

Then the crawl's share (``crawl_ratio``): the same pages as a crawl handles
them, front and section pages and one article page per link taken, each
article extracted (:func:`archive.extract.extract_article`, the work a crawl
spends most of its CPU on, both sides alike); ours also decides every
article page on its extraction (:func:`crawler.decision.decide`). Downloads,
WARC writing and indexing cost both sides the same and are left out, so the
ratio is an upper bound of what discovery and classification add to a crawl.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from scrapy.http import HtmlResponse
from scrapy.linkextractors import LinkExtractor

from archive import urlshape
from archive.extract import extract_article
from archive.seeds import load_seeds
from bench.synthweb import SynthWeb
from crawler.decision import decide
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

    fetched = datetime.now(timezone.utc)
    articles = [
        (web.article(synthetic.index, i).url, web.article_html(synthetic.index, i))
        for synthetic in web.outlet_list
        for i in range(args.articles)
    ]

    def extract_all() -> list[tuple[str, object]]:
        return [(url, extract_article(html, url, fetched)) for url, html in articles]

    extracted = extract_all()

    def decide_all() -> None:
        urlshape._classify.cache_clear()
        for url, extraction in extracted:
            if extraction is not None:
                decide(urlshape.classify_url(url), extraction)  # type: ignore[arg-type]

    timings = {name: _cpu(run, args.repeats) for name, run in [
        ("baseline", baseline), ("ours", ours), ("patterns", patterns_only), ("classification", classification_only),
        ("extraction", extract_all), ("decisions", decide_all),
    ]}  # fmt: skip
    crawl_baseline = timings["baseline"] + timings["extraction"]
    crawl_ours = timings["ours"] + timings["extraction"] + timings["decisions"]
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
                "article_pages": len(articles),
                "extraction_ms_per_article": round(timings["extraction"] / len(articles) * 1e3, 3),
                "decision_us_per_article": round(timings["decisions"] / len(articles) * 1e6, 2),
                "crawl_baseline_s": round(crawl_baseline, 3),
                "crawl_ours_s": round(crawl_ours, 3),
                "crawl_ratio": round(crawl_ours / crawl_baseline, 3),
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
