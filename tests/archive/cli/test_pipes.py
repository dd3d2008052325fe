"""A reader that stops early (``newsarchive ... | head``) ends the command quietly, never with a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from archive.cli import BROKEN_PIPE
from tests.conftest import CrawlRun
from tests.fixtureweb.data import load_seeds

NEWSARCHIVE = str(Path(sys.executable).with_name("newsarchive"))
SEED = load_seeds()[0]


@pytest.mark.parametrize(
    "command",
    [["summary"], ["replay", SEED.url], ["replay", SEED.url, "--list"], ["replay", SEED.url, "--raw", "-"]],
    ids=" ".join,
)
def test_a_closed_pipe_ends_a_command_quietly(fixture_crawl: CrawlRun, command: list[str]) -> None:
    """The finding: ``newsarchive summary | head`` ended in a BrokenPipeError traceback."""
    process = subprocess.Popen(
        [NEWSARCHIVE, "--data", str(fixture_crawl.data_dir), *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    with process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()  # the reader is gone before the first byte: every write meets a closed pipe
        err = process.stderr.read().decode()
        assert process.wait(timeout=60) == BROKEN_PIPE == 141
    assert err == ""


def test_head_reads_the_first_line_and_the_rest_goes_nowhere(fixture_crawl: CrawlRun) -> None:
    done = subprocess.run(
        f"set -o pipefail; {NEWSARCHIVE} --data {fixture_crawl.data_dir} summary | head -c1",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout == "A" and done.stderr == ""  # "Archive in ...": all or part of it was written
    assert done.returncode in (0, BROKEN_PIPE)  # whether head had left before the last write is a race
