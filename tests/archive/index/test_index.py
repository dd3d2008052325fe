"""CDXJ lines as cdxj-indexer writes them; per-WARC index files kept current as files close; lookups."""

import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from archive.archiver import Archiver
from archive.index import IndexStore, parse_line
from archive.index.cdxj import cdxj_line
from archive.warc import WarcWriter, iter_records, read_record
from archive.warc.records import exchange_records, metadata_record
from tests.archive.warc.test_writer import exchange
from tests.tools import tool

START = datetime(2019, 2, 28, 12, 0, tzinfo=timezone.utc)


def stamp(hour: int) -> str:
    return (START + timedelta(hours=hour)).strftime("%Y%m%d%H%M%S")


def captures(hours: range, url: str = "http://www.example.com/story") -> list:
    return [
        exchange(url=url, fetched_at=START + timedelta(hours=h), response_record_id=f"<urn:uuid:{url[-5:]}-{h}>")
        for h in hours
    ]


def write_warc(folder: Path, exchanges: list, **writer_options: object) -> list[Path]:
    writer = WarcWriter(folder, info={"software": "test"}, **writer_options)  # type: ignore[arg-type]
    for ex in exchanges:
        written = writer.write(exchange_records(ex, writer.builder))
        writer.write([metadata_record(writer.builder, ex.url, written[-1].record_id, {"k": "v"}, ex.fetched_at)])
    writer.close()
    return writer.closed_files


def test_lines_are_those_cdxj_indexer_writes(tmp_path: Path) -> None:
    exchanges = captures(range(3)) + [
        exchange(url="http://example.com/b", status=302, response_headers=[(b"Location", b"/a")], body=b""),
        exchange(url="http://example.com/c", response_head=b"HTTP/1.1 200 OK\r\ncontent-type:application/pdf\r\n\r\n"),
        exchange(url="http://Example.com/Caf%C3%A9?b=2&a=1", response_headers=[(b"Content-Type", b"TEXT/HTML ;x=y")]),
    ]
    (path,) = write_warc(tmp_path, exchanges)
    ours = IndexStore(tmp_path / "indexes").index_warc(path).read_text()
    reference = subprocess.run(
        [str(tool("cdxj-indexer")), "--sort", "--records", "response,revisit,resource", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ours == reference
    assert len(ours.splitlines()) == 6  # the metadata records are not captures


def test_metadata_and_request_records_are_not_indexed(tmp_path: Path) -> None:
    (path,) = write_warc(tmp_path, captures(range(1)))
    types = {r.rec_type: cdxj_line(r) for r in iter_records(path)}
    assert types["request"] is None and types["metadata"] is None and types["warcinfo"] is None
    assert types["response"].startswith("com,example)/story 20190228120000 {")


def test_the_archiver_indexes_each_file_as_it_closes(tmp_path: Path) -> None:
    index = IndexStore(tmp_path / "indexes")
    writer = WarcWriter(tmp_path / "warcs", info={"software": "test"}, max_size=3000)
    archiver = Archiver(writer, None, batch_size=3, fsync=True, index=index)
    for ex in captures(range(12)):
        archiver.submit_exchange(ex)
        archiver.submit_metadata(ex.url, ex.response_record_id, {"k": "v"}, ex.fetched_at)
    archiver.close()
    assert len(writer.closed_files) > 2
    assert [p.name for p in index.files()] == sorted(f"{p.name}.cdxj" for p in writer.closed_files)
    for path in writer.closed_files:  # what was gathered while writing is what reading the file gives
        live = index.index_path(path.name).read_text()
        assert live == IndexStore(tmp_path / "reread").index_warc(path).read_text()
    assert sum(len(p.read_text().splitlines()) for p in index.files()) == 12


def test_a_capture_whose_url_cannot_be_parsed_gets_no_line_and_the_writer_goes_on(tmp_path: Path) -> None:
    """Issue 13, 1: a bad URL in a record must not kill the archiver's writer thread (it builds these lines)."""
    index = IndexStore(tmp_path / "indexes")
    writer = WarcWriter(tmp_path / "warcs", info={"software": "test"})
    archiver = Archiver(writer, None, batch_size=3, fsync=True, index=index)
    exchanges = captures(range(2)) + captures(range(2, 3), "http://www.example.com:99999/story")
    for ex in exchanges + captures(range(3, 5)):
        archiver.submit_exchange(ex)
    archiver.close()
    (path,) = writer.closed_files
    lines = index.index_path(path.name).read_text().splitlines()
    assert [parse_line(line).timestamp for line in lines] == [stamp(h) for h in (0, 1, 3, 4)]
    assert IndexStore(tmp_path / "reread").index_warc(path).read_text().splitlines() == lines
    bad = next(r for r in iter_records(path) if r.target_uri.endswith(":99999/story") and r.rec_type == "response")
    assert cdxj_line(bad) is None


@pytest.fixture
def store(tmp_path: Path) -> IndexStore:
    """Two WARC files: captures of one URL at 0..9 h and 10..19 h, and of others around them."""
    index = IndexStore(tmp_path / "indexes")
    for hours in (range(10), range(10, 20)):
        exchanges = captures(hours) + captures(hours, "http://www.example.com/storyA")
        exchanges += captures(hours, "http://www.example.com/stor") + captures(hours, "http://a.example.com/story")
        for path in write_warc(tmp_path / "warcs", exchanges):
            index.index_warc(path)
    return index


def test_lookup_finds_every_capture_of_a_url_in_time_order_across_files(store: IndexStore) -> None:
    found = list(store.lookup("http://example.com/story"))  # www. and case do not matter, as in pywb
    assert [e.timestamp for e in found] == [stamp(h) for h in range(20)]
    assert {e.url for e in found} == {"http://www.example.com/story"}
    assert len({e.filename for e in found}) == 2


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (5, None, range(5, 20)),
        (None, 4, range(5)),
        (8, 12, range(8, 13)),
        (19, 19, range(19, 20)),
        (21, None, range(0)),
        (None, -1, range(0)),
    ],
)
def test_lookup_by_time_range(store: IndexStore, start: int | None, end: int | None, hours: range) -> None:
    found = store.lookup(
        "http://www.example.com/story",
        START + timedelta(hours=start) if start is not None else None,
        START + timedelta(hours=end) if end is not None else None,
    )
    assert [e.timestamp for e in found] == [stamp(h) for h in hours]


def test_lookup_of_a_url_never_captured(store: IndexStore) -> None:
    assert list(store.lookup("http://www.example.com/sto")) == []
    assert list(store.lookup("http://zzz.example/")) == []
    assert list(store.lookup("http://aaa.example/")) == []


def test_every_line_points_at_its_record(store: IndexStore, tmp_path: Path) -> None:
    lines = list(store.lines())
    assert len(lines) == 80 and lines == sorted(lines)
    for line in lines:
        entry = parse_line(line)
        record = read_record(tmp_path / "warcs" / entry.filename, entry.offset)
        assert record.rec_headers.get_header("WARC-Target-URI") == entry.url


def test_rebuild_indexes_closed_files_only_and_drops_stale_ones(store: IndexStore, tmp_path: Path) -> None:
    warcs = tmp_path / "warcs"
    before = {p.name: p.read_text() for p in store.files()}
    (warcs / "crawl-20190228000000000-00001-1~h.warc.gz.open").write_bytes(b"torn")
    store.index_path("gone.warc.gz").write_text("x 1 {}\n")
    half_written = store.directory / "crawl-20190228000000000-00001-1~h.warc.gz.cdxj.tmp"
    half_written.write_text("x")
    store.rebuild(warcs)
    assert {p.name: p.read_text() for p in store.files()} == before
    assert not half_written.exists()
