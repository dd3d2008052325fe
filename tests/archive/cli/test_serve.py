"""``newsarchive serve`` never leaves its pywb behind: stopped by SIGTERM, SIGHUP or SIGKILL, or failing itself.

pywb is stood in for by a small ``wayback`` program (any program can be given with ``--pywb``) that
answers every request and writes its pid where the test can read it; the process handling under
test is ``serve``'s own, the same for the real pywb.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from archive.cli.serve import STOP_SIGNALS
from archive.web.pywb import REPLAY_CSP

NEWSARCHIVE = str(Path(sys.executable).with_name("newsarchive"))
FAKE_WAYBACK = '''#!{python}
"""A stand-in for pywb's wayback: writes its pid (and beside it its address), answers 200 to every request."""
import http.server, os, sys
args = sys.argv[1:]
host, port = args[args.index("--bind") + 1], int(args[args.index("--port") + 1])
with open(os.environ["FAKE_WAYBACK_PID"] + ".address", "w") as f:
    f.write("http://%s:%d" % (host, port))
with open(os.environ["FAKE_WAYBACK_PID"], "w") as f:
    f.write(str(os.getpid()))
class Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"archived bytes")
    def log_message(self, *args):
        pass
http.server.HTTPServer((host, port), Ok).serve_forever()
'''


def alive(pid: int) -> bool:
    """Whether the process runs (a zombie waiting for its parent to reap it does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def wayback(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """The stand-in program and the file it writes its pid to; kills it at the end should a test leave it."""
    program, pid_file = tmp_path / "wayback", tmp_path / "wayback.pid"
    program.write_text(FAKE_WAYBACK.format(python=sys.executable))
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    yield program, pid_file
    if pid_file.exists() and alive(pid := int(pid_file.read_text())):
        os.kill(pid, signal.SIGKILL)


def _signals_as_a_user_has_them(ignoring: signal.Signals | None) -> None:
    """The stop signals' default actions, whatever this test run inherited (a run under ``nohup`` or in a
    shell's background ignores SIGHUP or SIGINT, and ``serve`` keeps an ignored signal ignored), but ``ignoring``."""
    for number in STOP_SIGNALS:
        signal.signal(number, signal.SIG_IGN if number == ignoring else signal.SIG_DFL)


def start_serve(
    data: Path, wayback: tuple[Path, Path], *options: str, ignoring: signal.Signals | None = None
) -> tuple[subprocess.Popen[str], int, str]:
    """``serve`` as a user starts it (``ignoring`` a signal, as under ``nohup``), once it serves; the process,
    its pywb's pid and the replay address it announced."""
    program, pid_file = wayback
    process = subprocess.Popen(
        [NEWSARCHIVE, "--data", str(data), "serve", "--pywb", str(program), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "FAKE_WAYBACK_PID": str(pid_file)},
        preexec_fn=lambda: _signals_as_a_user_has_them(ignoring),
    )
    assert process.stdout is not None
    lines = [process.stdout.readline(), process.stdout.readline()]
    announced = re.search(r"pywb replays from (http://127\.0\.0\.1:\d+)/ \(its own process, pid \d+\)", lines[0])
    assert announced, lines
    assert re.search(r"serving .* on http://127\.0\.0\.1:\d+/", lines[1]), lines
    pid = int(pid_file.read_text())
    assert f"pid {pid})" in lines[0] and alive(pid)
    return process, pid, announced.group(1)


def test_the_replay_address_is_a_proxy_that_sandboxes_every_answer(tmp_path: Path, wayback: tuple[Path, Path]) -> None:
    """pywb listens on an internal loopback port; what ``serve`` announces (and the app frames) is the proxy,
    whose answers all carry the sandboxing policy that pywb sends only in its replay mode."""
    process, pywb, public = start_serve(tmp_path / "data", wayback, "--port", "0")
    try:
        internal = Path(f"{wayback[1]}.address").read_text()
        raw = "/archive/20190228100000id_/http://example.com/"
        with urllib.request.urlopen(internal + raw, timeout=10) as answer:  # noqa: S310 - loopback only
            assert answer.headers["Content-Security-Policy"] is None  # (the stand-in, like pywb's raw modes)
        with urllib.request.urlopen(public + raw, timeout=10) as answer:  # noqa: S310 - loopback only
            assert answer.read() == b"archived bytes"
            assert answer.headers.get_all("Content-Security-Policy") == [REPLAY_CSP]
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert urlsplit(internal).hostname == "127.0.0.1" and internal != public
    assert gone_within(pywb, 5)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name)
def test_a_stop_signal_stops_serve_and_its_pywb(tmp_path: Path, wayback: tuple[Path, Path], signum: int) -> None:
    """The finding: SIGTERM left pywb running (SIGINT did not)."""
    process, pywb, _ = start_serve(tmp_path / "data", wayback, "--port", "0")
    process.send_signal(signum)
    try:
        output = process.communicate(timeout=30)[0]
    finally:
        process.kill()  # (a no-op once it has ended; else it must not outlive the test)
    assert process.returncode == 0, output
    assert f"stopped ({signum.name})" in output and "Traceback" not in output
    assert gone_within(pywb, 5)


def test_under_nohup_sighup_is_still_ignored(tmp_path: Path, wayback: tuple[Path, Path]) -> None:
    process, pywb, _ = start_serve(tmp_path / "data", wayback, "--port", "0", ignoring=signal.SIGHUP)
    process.send_signal(signal.SIGHUP)
    time.sleep(1)
    assert process.poll() is None and alive(pywb)
    process.terminate()
    assert "stopped (SIGTERM)" in process.communicate(timeout=30)[0]
    assert gone_within(pywb, 5)


def test_serve_killed_outright_takes_its_pywb_along(tmp_path: Path, wayback: tuple[Path, Path]) -> None:
    process, pywb, _ = start_serve(tmp_path / "data", wayback, "--port", "0")
    process.kill()  # no handler runs: the kernel tells pywb (PR_SET_PDEATHSIG)
    process.communicate(timeout=30)
    assert gone_within(pywb, 10)


def test_serve_failing_after_pywb_started_stops_it(tmp_path: Path, wayback: tuple[Path, Path]) -> None:
    """The app cannot listen (its port is taken) once pywb runs: werkzeug says so and exits 1; pywb is stopped."""
    program, pid_file = wayback
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [NEWSARCHIVE, "--data", str(tmp_path / "data"), "serve", "--pywb", str(program), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "FAKE_WAYBACK_PID": str(pid_file)},
        )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"Port {port} is in use" in done.stderr and "Traceback" not in done.stderr
    assert gone_within(int(pid_file.read_text()), 5)


def test_a_replay_port_already_taken_fails_before_pywb_starts(tmp_path: Path, wayback: tuple[Path, Path]) -> None:
    program, pid_file = wayback
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [NEWSARCHIVE, "--data", str(tmp_path / "data"), "serve", "--pywb", str(program), "--pywb-port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "FAKE_WAYBACK_PID": str(pid_file)},
        )
    assert done.returncode != 0 and f"cannot listen on 127.0.0.1:{port}" in done.stderr, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and not pid_file.exists()
