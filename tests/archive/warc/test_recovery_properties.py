"""Property-based tests of recovery: over random truncations, bit flips and insertions of a real WARC file,
recovery never raises, never loses a record whose gzip member is intact, accounts for every byte, and
what it closes passes warcio's checks."""

from __future__ import annotations

import functools
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from warcio.archiveiterator import ArchiveIterator

from archive.warc import WarcWriter, iter_records
from archive.warc.files import OPEN_SUFFIX, closed_warcs
from archive.warc.records import exchange_records
from archive.warc.recovery import GZIP_RECORDS, Recovered, recover_file
from tests.archive.warc.test_writer import exchange


@dataclass(frozen=True)
class Sample:
    data: bytes
    spans: tuple[tuple[int, int], ...]  # each record's gzip member: start, end
    ids: tuple[str, ...]  # each record's WARC-Record-ID


@functools.cache
def sample() -> Sample:
    """A WARC file written by the project's writer: warcinfo, then exchanges with incompressible and
    compressible bodies (stored and deflated blocks)."""
    with tempfile.TemporaryDirectory(prefix="recovery-properties-") as folder:
        writer = WarcWriter(folder, info={"software": "test"})
        noise = random.Random(13)
        for i in range(8):
            body = noise.randbytes(2000) if i % 2 else b"<p>story %d</p>" % i * 300
            writer.write(
                exchange_records(
                    exchange(url=f"http://example.com/{i}", body=body, response_record_id=f"<urn:uuid:{i}>"),
                    writer.builder,
                )
            )
        writer.close()
        path = writer.closed_files[0]
        records = list(iter_records(path))
        data = path.read_bytes()
    return Sample(
        data,
        tuple((r.location.offset, r.location.offset + r.location.length) for r in records),
        tuple(r.record_id for r in records),
    )


def warcio_ids(path: Path) -> list[str]:
    """The record ids warcio reads, every digest checked."""
    ids = []
    with path.open("rb") as f:
        records = ArchiveIterator(f, check_digests=True)
        for record in records:
            records.read_to_end(record)
            assert record.digest_checker.passed is not False, record.digest_checker.problems
            ids.append(record.rec_headers.get_header("WARC-Record-ID"))
    return ids


def recover_checked(damaged: bytes, intact: set[str]) -> Recovered:
    """Recover ``damaged`` as an abandoned file and check what every recovery must satisfy, whatever the damage."""
    with tempfile.TemporaryDirectory(prefix="recovery-example-") as name:
        folder = Path(name)
        path = folder / ("newsarchive-20240501100000000-00001-1~elsewhere.warc.gz" + OPEN_SUFFIX)
        path.write_bytes(damaged)
        result = recover_file(path)
        assert result is not None
        assert result.size + result.cut + sum(s.length for s in result.skipped) == len(damaged)  # every byte
        if result.skipped:  # damage: the original is kept, byte for byte
            assert result.original is not None and result.original.read_bytes() == damaged
        elif result.closed:  # at most a torn tail cut, in place
            assert result.path.read_bytes() == damaged[: result.size]
        if result.layout != GZIP_RECORDS:  # another tool's layout: closed as it is, whatever it holds
            assert result.closed and result.path.read_bytes() == damaged and not intact
            return result
        kept = warcio_ids(result.path) if result.closed else []
        assert len(kept) == result.records
        assert intact <= set(kept), f"lost {sorted(intact - set(kept))}"
        assert closed_warcs(folder) == ([result.path] if result.closed else [])
    return result


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_truncated_file_keeps_exactly_the_records_before_the_cut(data: st.DataObject) -> None:
    whole = sample()
    cut = data.draw(st.integers(0, len(whole.data)))
    kept = {record_id for (_, end), record_id in zip(whole.spans, whole.ids, strict=True) if end <= cut}
    result = recover_checked(whole.data[:cut], kept)
    assert not result.skipped and result.original is None  # a tear is never mistaken for damage
    assert result.records == len(kept)


MUTATION = st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1, exclude_max=True), st.integers(0, 7)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("delete"), st.floats(0, 1, exclude_max=True), st.integers(1, 64)),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations=st.lists(MUTATION, min_size=1, max_size=4), truncate=st.none() | st.floats(0, 1))
def test_damage_never_costs_an_intact_record(
    mutations: list[tuple[str, float, object]], truncate: float | None
) -> None:
    whole = sample()
    cut = len(whole.data) if truncate is None else int(truncate * len(whole.data))  # a tear on top of the damage
    flips: dict[int, int] = {}  # original offset: XOR mask
    deleted: set[int] = set()
    inserted: dict[int, bytes] = {}  # bytes inserted before the original offset
    for kind, where, what in mutations if cut else []:
        position = int(where * cut)
        if kind == "flip":
            flips[position] = flips.get(position, 0) ^ (1 << what)  # type: ignore[operator]
        elif kind == "insert":
            inserted[position] = inserted.get(position, b"") + what  # type: ignore[operator]
        else:
            deleted.update(range(position, min(position + what, cut)))  # type: ignore[operator]
    damaged = bytearray()
    for position in range(cut + 1):
        damaged += inserted.get(position, b"")
        if position < cut and position not in deleted:
            damaged.append(whole.data[position] ^ flips.get(position, 0))
    touched = {p for p, mask in flips.items() if mask} | deleted
    intact = {
        record_id
        for (start, end), record_id in zip(whole.spans, whole.ids, strict=True)
        if end <= cut
        and not any(start <= p < end for p in touched)
        and not any(start < p < end for p in inserted)  # an insertion at a member's start leaves it whole
    }
    recover_checked(bytes(damaged), intact)


def test_the_sample_is_a_whole_warc() -> None:
    whole = sample()
    assert len(whole.ids) == 17  # warcinfo and eight exchanges
    result = recover_checked(whole.data, set(whole.ids))
    assert (result.records, result.cut, result.skipped) == (17, 0, ())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=st.sampled_from([b"", b"\x1f\x8b", b"\x1f\x8b\x08\x00", b"WARC/", b"WARC/1.1\r\n"]),
    noise=st.binary(max_size=2000),
    records=st.integers(0, 17),
)
def test_any_bytes_after_whole_records_never_raise(start: bytes, noise: bytes, records: int) -> None:
    # foreign layouts and garbage: whatever follows the first whole records, they are kept
    whole = sample()
    prefix = whole.data[: whole.spans[records - 1][1]] if records else b""
    result = recover_checked(prefix + start + noise, set(whole.ids[:records]))
    assert result.records >= records
