"""Replay lookup latency against archive size: ``python -m bench.lookup [--sizes 10000,100000,1000000]``.

Writes synthetic CDXJ index files (100 WARC files' worth, each sorted, as the
crawler writes them) for each size, then times :func:`archive.replay.find_capture`
for random archived URLs, median of many. A lookup binary-searches each index
file, so its cost grows with the logarithm of the captures, not with their number.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from archive.index import IndexStore, surt
from archive.replay import find_capture

FILES = 100
CAPTURES_PER_URL = 4


def build(directory: Path, captures: int) -> tuple[IndexStore, list[str]]:
    store = IndexStore(directory)
    urls = [f"http://outlet{n % 50}.example/news/{n:08d}/story" for n in range(captures // CAPTURES_PER_URL)]
    lines: list[list[str]] = [[] for _ in range(FILES)]
    for n in range(captures):
        url = urls[n % len(urls)]
        stamp = f"2019{1 + n % 12:02d}{1 + n % 28:02d}{n % 24:02d}0000"
        data = {"url": url, "mime": "text/html", "status": "200", "length": "1000", "offset": str(n * 1000)}
        data["filename"] = f"crawl-{n % FILES:05d}.warc.gz"
        lines[n % FILES].append(f"{surt(url)} {stamp} {json.dumps(data)}\n")
    for index, chunk in enumerate(lines):
        store.write(f"crawl-{index:05d}.warc.gz", chunk)
    return store, urls


def time_lookups(store: IndexStore, urls: list[str], repeats: int) -> float:
    rng = random.Random(7)
    samples = []
    for _ in range(repeats):
        url = rng.choice(urls)
        start = time.perf_counter()
        assert find_capture(store, url) is not None
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated capture counts")
    parser.add_argument("--repeats", type=int, default=300, help="lookups timed per size")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    print(f"{'captures':>10} {'build s':>8} {'median lookup ms':>17}")
    for size in sizes:
        with tempfile.TemporaryDirectory() as folder:
            began = time.perf_counter()
            store, urls = build(Path(folder), size)
            built = time.perf_counter() - began
            results[size] = time_lookups(store, urls, args.repeats)
        print(f"{size:>10,} {built:>8.1f} {results[size] * 1000:>17.3f}", flush=True)
    if len(sizes) > 1:
        print(f"ratio {sizes[-1]:,} / {sizes[0]:,}: {results[sizes[-1]] / results[sizes[0]]:.2f}")


if __name__ == "__main__":
    main()
