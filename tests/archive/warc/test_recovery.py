"""Recovery of WARC files a killed crawler left open: whole records kept, torn tail cut, damage skipped
(the original kept beside the repaired copy), other layouts closed as they are, stray entries and live
files left alone."""

import fcntl
import gzip
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

import pytest

from archive.format import OUTLETS_FIELD
from archive.warc import WarcWriter, iter_records, recovery
from archive.warc.files import DAMAGED_SUFFIX, OPEN_SUFFIX, STAMP_FORMAT, closed_warcs, file_host
from archive.warc.records import exchange_records
from archive.warc.recovery import (
    UNCOMPRESSED,
    WHOLE_GZIP,
    Recovered,
    Stretch,
    Survey,
    process_alive,
    recover,
    recover_file,
    survey,
)
from tests.archive.warc.test_writer import exchange, warcio_check

SITE = "http://www.example.com/"
OUTLETS = json.dumps([{"name": "Example News", "allowed_domains": ["example.com"]}])


@pytest.fixture(scope="module")
def complete_warc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed WARC file of a warcinfo record and five request/response pairs."""
    folder = tmp_path_factory.mktemp("complete")
    writer = WarcWriter(folder, info={"software": "test", OUTLETS_FIELD: OUTLETS})
    for i in range(5):
        writer.write(
            exchange_records(
                exchange(url=f"{SITE}{i}", body=os.urandom(3000), response_record_id=f"<urn:uuid:{i}>"), writer.builder
            )
        )
    writer.close()
    return writer.closed_files[0]


def open_copy(source: Path, folder: Path, size: int, pid: int | None = None, stamp: str | None = None) -> Path:
    """The first ``size`` bytes of ``source`` as an abandoned ``.open`` file: by default under its
    own name (this process's), else named for ``pid`` and created at ``stamp``."""
    name = source.name
    if pid is not None:
        stamp = stamp or datetime.now(timezone.utc).strftime(STAMP_FORMAT)[:17]
        name = f"newsarchive-{stamp}-00001-{pid}~{file_host()}.warc.gz"
    path = folder / (name + OPEN_SUFFIX)
    path.write_bytes(source.read_bytes()[:size])
    return path


def member_ends(path: Path) -> list[int]:
    return [r.location.offset + r.location.length for r in iter_records(path)]


def test_survey_stops_at_the_torn_tail(complete_warc: Path) -> None:
    ends = member_ends(complete_warc)
    assert len(ends) == 11
    with complete_warc.open("rb") as f:
        assert survey(f) == Survey(((Stretch(0, ends[-1])),), 11, (), ends[-1])
    data = complete_warc.read_bytes()
    assert survey(BytesIO(data[: ends[3] - 1])) == Survey((Stretch(0, ends[2]),), 3, (), ends[2])
    assert survey(BytesIO(data[: ends[3]])) == Survey((Stretch(0, ends[3]),), 4, (), ends[3])
    for cut in (ends[3] + 1, ends[3] + 2, ends[3] + 200):  # a tear inside the gzip header too
        assert survey(BytesIO(data[:cut])) == Survey((Stretch(0, ends[3]),), 4, (), ends[3])


def test_a_member_whose_record_is_short_is_damage_and_the_records_after_it_are_kept(complete_warc: Path) -> None:
    ends = member_ends(complete_warc)
    data = complete_warc.read_bytes()
    record = gzip.decompress(data[ends[0] : ends[1]])
    lying = gzip.compress(record[:-10] + b"\r\n\r\n")  # a complete gzip member, but the block is cut
    found = survey(BytesIO(data[: ends[0]] + lying + data[ends[1] :]))
    after = ends[0] + len(lying)
    shift = after - ends[1]
    assert found == Survey(
        (Stretch(0, ends[0]), Stretch(after, ends[-1] + shift - after)),
        10,
        (Stretch(ends[0], len(lying)),),
        ends[-1] + shift,
    )


@pytest.mark.parametrize("cut_in", ["warcinfo", "request", "response", "between"])
def test_recovery_keeps_whole_records_and_closes_the_file(complete_warc: Path, tmp_path: Path, cut_in: str) -> None:
    ends = member_ends(complete_warc)
    size = {"warcinfo": ends[0] - 7, "request": ends[4] + 20, "response": ends[6] - 20, "between": ends[6]}[cut_in]
    path = open_copy(complete_warc, tmp_path, size)
    result = recover_file(path)
    assert result is not None
    assert not path.exists()
    if cut_in == "warcinfo":  # nothing whole: nothing kept
        assert result.records == 0 and not list(tmp_path.iterdir())
        return
    kept = [e for e in ends if e <= size]
    assert result.path == path.with_name(path.name.removesuffix(OPEN_SUFFIX))
    assert (result.records, result.size, result.cut) == (len(kept), kept[-1], size - kept[-1])
    assert result.path.read_bytes() == complete_warc.read_bytes()[: kept[-1]]
    warcio_check(result.path)


def test_a_file_held_by_a_live_writer_is_left_alone(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, info={"software": "test"})
    writer.write(exchange_records(exchange(), writer.builder))
    (path,) = tmp_path.glob(f"*{OPEN_SUFFIX}")
    before = path.read_bytes()
    assert recover(tmp_path) == []
    assert path.read_bytes() == before
    writer.write(exchange_records(exchange(response_record_id="<urn:uuid:2>"), writer.builder))
    writer.close()
    warcio_check(writer.closed_files[0])


def test_the_writer_holds_an_exclusive_lock_until_the_file_is_renamed(tmp_path: Path) -> None:
    closed: list[Path] = []
    writer = WarcWriter(tmp_path, info={"software": "test"}, on_close=closed.append)
    writer.write(exchange_records(exchange(), writer.builder))
    (path,) = tmp_path.glob(f"*{OPEN_SUFFIX}")
    with path.open("rb") as f:
        with pytest.raises(BlockingIOError):
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    writer.close()
    assert closed == writer.closed_files == [path.with_name(path.name.removesuffix(OPEN_SUFFIX))]


def test_a_file_named_for_a_running_process_is_left_alone_unless_the_pid_was_reused(
    complete_warc: Path, tmp_path: Path
) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = open_copy(complete_warc, tmp_path, 5000, pid=sleeper.pid)
        assert recover_file(live) is None and live.exists()
        # a file older than the process carrying its pid was written by an earlier process
        old = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime(STAMP_FORMAT)[:17]
        reused = open_copy(complete_warc, tmp_path, 5000, pid=sleeper.pid, stamp=old)
        result = recover_file(reused)
        assert result is not None and result.records > 0
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_file_named_for_a_killed_but_unreaped_process_is_recovered(complete_warc: Path, tmp_path: Path) -> None:
    # a crawler's archiver killed with it stays a zombie until something reaps it: it writes nothing
    writer = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + 10
        while Path(f"/proc/{writer.pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert not process_alive(writer.pid) and process_alive(os.getpid())
        result = recover_file(open_copy(complete_warc, tmp_path, 5000, pid=writer.pid))
        assert result is not None and result.records > 0
    finally:
        writer.wait()


def abandoned(folder: Path, data: bytes, name: str = "newsarchive-20240501100000000-00001-1~elsewhere.warc.gz") -> Path:
    """``data`` as an abandoned ``.open`` file (named for a process on another machine)."""
    path = folder / (name + OPEN_SUFFIX)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("member", [1, 5, 10], ids=["first-request", "a-response", "the-last-member"])
def test_a_flipped_bit_skips_only_its_member_and_keeps_the_original(
    complete_warc: Path, tmp_path: Path, member: int
) -> None:
    ends = [0, *member_ends(complete_warc)]
    whole = complete_warc.read_bytes()
    damaged = bytearray(whole)
    damaged[(ends[member] + ends[member + 1]) // 2] ^= 0x10
    path = abandoned(tmp_path, bytes(damaged))
    result = recover_file(path)
    assert result is not None and result.closed and not path.exists()
    assert result.records == 10
    assert result.skipped == (Stretch(ends[member], ends[member + 1] - ends[member]),)
    assert result.path.read_bytes() == whole[: ends[member]] + whole[ends[member + 1] :]
    assert result.original == result.path.with_name(result.path.name + DAMAGED_SUFFIX)
    assert result.original.read_bytes() == bytes(damaged)
    assert closed_warcs(tmp_path) == [result.path]  # the original is never listed as a WARC
    warcio_check(result.path)


def test_many_records_after_a_flipped_bit_are_all_kept(tmp_path: Path) -> None:
    # the finding: one flipped bit in an .open file cut the 75 whole records after it
    writer = WarcWriter(tmp_path / "w", info={"software": "test"})
    for i in range(40):
        writer.write(exchange_records(exchange(url=f"{SITE}{i}", response_record_id=f"<urn:uuid:{i}>"), writer.builder))
    writer.close()
    source = writer.closed_files[0]
    ends = member_ends(source)
    damaged = bytearray(source.read_bytes())
    damaged[(ends[3] + ends[4]) // 2] ^= 0x01  # in the second response
    result = recover_file(abandoned(tmp_path, bytes(damaged)))
    assert result is not None and result.records == 80 == len(ends) - 1
    responses = [r.record_id for r in iter_records(result.path) if r.rec_type == "response"]
    assert responses == [f"<urn:uuid:{i}>" for i in range(40) if i != 1]


def test_damage_and_a_torn_tail_together(complete_warc: Path, tmp_path: Path) -> None:
    ends = member_ends(complete_warc)
    whole = complete_warc.read_bytes()
    damaged = bytearray(whole[: ends[9] - 40])  # torn inside the last-but-one member
    damaged[ends[2] + 50] ^= 0x04
    result = recover_file(abandoned(tmp_path, bytes(damaged)))
    assert result is not None
    assert (result.records, result.cut, result.skipped) == (
        8,
        ends[9] - 40 - ends[8],
        (Stretch(ends[2], ends[3] - ends[2]),),
    )
    assert result.path.read_bytes() == whole[: ends[2]] + whole[ends[3] : ends[8]]
    assert result.original is not None and result.original.read_bytes() == bytes(damaged)


def test_a_file_without_one_whole_record_is_kept_as_damaged_not_deleted(tmp_path: Path) -> None:
    path = abandoned(tmp_path, b"this is not a WARC file at all\n" * 10)
    result = recover_file(path)
    assert result is not None and not result.closed and result.records == 0
    assert result.path == result.original and result.original.name.endswith(".warc.gz" + DAMAGED_SUFFIX)
    assert result.original.read_bytes() == b"this is not a WARC file at all\n" * 10
    assert result.skipped == (Stretch(0, 310),)
    assert closed_warcs(tmp_path) == []


def uncompressed_warc(complete_warc: Path) -> bytes:
    return b"".join(gzip.decompress(complete_warc.read_bytes()[a:b]) for a, b in member_spans(complete_warc))


def member_spans(path: Path) -> list[tuple[int, int]]:
    return [(r.location.offset, r.location.offset + r.location.length) for r in iter_records(path)]


@pytest.mark.parametrize("layout", [UNCOMPRESSED, WHOLE_GZIP])
def test_a_valid_warc_in_another_layout_is_closed_as_it_is(complete_warc: Path, tmp_path: Path, layout: str) -> None:
    data = uncompressed_warc(complete_warc)
    if layout == WHOLE_GZIP:
        data = gzip.compress(data)
    path = abandoned(tmp_path, data)
    result = recover_file(path)
    assert result is not None and result.closed and not result.skipped and result.cut == 0
    assert (result.layout, result.records, result.size) == (layout, 11, len(data))
    assert result.path.read_bytes() == data
    if layout == UNCOMPRESSED:  # warcio reads one gzip member around many records only once recompressed
        assert [r.record_id for r in iter_records(result.path)] == [r.record_id for r in iter_records(complete_warc)]


def test_an_empty_open_file_is_removed(tmp_path: Path) -> None:
    path = abandoned(tmp_path, b"")
    assert recover_file(path) == Recovered(path, 0, 0)
    assert not path.exists()


def test_stray_entries_and_crafted_names_are_reported_and_the_other_files_recovered(
    complete_warc: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "warcs"
    folder.mkdir()
    torn = complete_warc.read_bytes()[:5000]
    host = file_host()
    (folder / "a-directory.warc.gz.open").mkdir()
    outside = tmp_path / "outside.warc.gz.open"
    outside.write_bytes(torn)
    (folder / "b-symlink.warc.gz.open").symlink_to(outside)
    os.mkfifo(folder / "c-fifo.warc.gz.open")
    crafted = [
        f"newsarchive-99999999999999999-00001-1~{host}.warc.gz",  # seventeen digits that are no time
        f"newsarchive-20240501100000000-00001-0~{host}.warc.gz",  # pid 0: a process group
        f"newsarchive-20240501100000000-00001-{10**30}~{host}.warc.gz",  # beyond any pid
        "x\n-20240501100000000-00001-1~h\u00e9.warc.gz",
    ]
    for name in crafted:
        abandoned(folder, torn, name)
    results = {r.path.name: r for r in recover(folder)}
    for stray in ("a-directory", "b-symlink", "c-fifo"):
        assert results[f"{stray}.warc.gz.open"].problems and not results[f"{stray}.warc.gz.open"].closed
    assert (folder / "a-directory.warc.gz.open").is_dir() and outside.read_bytes() == torn
    assert (folder / "c-fifo.warc.gz.open").exists()
    for name in crafted:
        assert results[name].closed and results[name].records > 0
    assert sorted(closed_warcs(folder)) == sorted(folder / name for name in crafted)


def test_one_failing_file_does_not_stop_the_others(
    complete_warc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    torn = complete_warc.read_bytes()[:5000]
    first, second = abandoned(tmp_path, torn, "a.warc.gz"), abandoned(tmp_path, torn, "b.warc.gz")
    original_survey, calls = recovery.survey, []

    def failing_survey(f: BinaryIO) -> Survey:  # the first file (in name order) cannot be read
        calls.append(f)
        if len(calls) == 1:
            raise OSError(5, "Input/output error")
        return original_survey(f)

    monkeypatch.setattr(recovery, "survey", failing_survey)
    bad, good = recover(tmp_path)
    assert bad.path == first and first.read_bytes() == torn and "Input/output error" in bad.problems[0]
    assert good.closed and good.path == tmp_path / "b.warc.gz" and not second.exists()


def test_a_closed_file_of_the_same_name_is_never_replaced(complete_warc: Path, tmp_path: Path) -> None:
    torn = complete_warc.read_bytes()[:5000]
    path = abandoned(tmp_path, torn)
    path.with_name(path.name.removesuffix(OPEN_SUFFIX)).write_bytes(b"someone else's")
    result = recover_file(path)
    assert result is not None and not result.closed and "exists already" in result.problems[0]
    assert path.read_bytes() == torn
    assert path.with_name(path.name.removesuffix(OPEN_SUFFIX)).read_bytes() == b"someone else's"
