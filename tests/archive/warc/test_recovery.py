"""Recovery of WARC files a killed crawler left open: whole records kept, torn tail cut, live files untouched."""

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

import pytest

from archive.format import OUTLETS_FIELD
from archive.warc import WarcWriter, iter_records
from archive.warc.files import OPEN_SUFFIX, STAMP_FORMAT, file_host
from archive.warc.records import exchange_records
from archive.warc.recovery import process_alive, recover, recover_file, whole_records_end
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


def test_whole_records_end_stops_at_the_first_torn_member(complete_warc: Path) -> None:
    ends = member_ends(complete_warc)
    assert len(ends) == 11
    with complete_warc.open("rb") as f:
        assert whole_records_end(f) == (ends[-1], 11)
    data = complete_warc.read_bytes()
    assert whole_records_end(BytesIO(data[: ends[3] - 1])) == (ends[2], 3)
    for cut in (ends[3], ends[3] + 1, ends[3] + 200):
        assert whole_records_end(BytesIO(data[:cut])) == (ends[3], 4)


def test_a_member_whose_record_is_short_is_not_whole(complete_warc: Path, tmp_path: Path) -> None:
    ends = member_ends(complete_warc)
    data = complete_warc.read_bytes()
    record = gzip.decompress(data[ends[0] : ends[1]])
    lying = gzip.compress(record[:-10] + b"\r\n\r\n")  # a complete gzip member, but the block is cut
    path = tmp_path / "x.warc.gz.open"
    path.write_bytes(data[: ends[0]] + lying + data[ends[1] :])
    with path.open("rb") as f:
        assert whole_records_end(f) == (ends[0], 1)


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
