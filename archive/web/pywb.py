"""pywb, run beside the web app as its own process over the archive's WARC and index folders.

pywb is GPL-3.0: it is started as a program (``wayback`` from ``.venv-pywb``,
built by ``make pywb``), never imported. It serves one collection, ``archive``,
straight from ``<data>/indexes`` and ``<data>/warcs``, in non-framed mode: the
app frames it itself, in a sandboxed iframe. pywb rewrites every link, image
and stylesheet of a replayed page to point back into the archive, and the
Content-Security-Policy every answer carries confines the page to the replay's
own origin, so an archived page never reaches the live web. The policy also
*sandboxes* every page and forbids scripts: opened at the top level of a tab
(a pasted address, "open frame in new tab"), a page runs nothing and gets an
opaque origin, exactly as in the app's sandboxed frame; the app's own "open
the replay on its own" page frames it the same way.

pywb itself sends a policy only in its rewritten replay mode, not in its raw
modes (``id_``, ``mp_``, ...) nor on its other endpoints. So pywb listens on
an internal loopback port, and the public replay address is a
:class:`~archive.web.proxy.SandboxProxy` in front of it, a thread of this
process that puts the policy on every answer, whatever the address.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from urllib.error import URLError

from archive.config import ArchivePaths
from archive.errors import NewsArchiveError
from archive.lifetime import parent_death_signal
from archive.web.proxy import SandboxProxy

__all__ = ["COLLECTION", "PYWB_ENV", "PywbError", "PywbServer", "find_wayback"]

COLLECTION = "archive"
PYWB_ENV = "NEWSARCHIVE_PYWB"
#: How every answer of the replay is confined: sandboxed (no scripts, an opaque origin, even at the top level), no
#: scripts at all, and nothing loaded but from the replay's own origin (inline styles and data: URLs for archived
#: pages' own).
REPLAY_CSP = (
    "sandbox; default-src 'self' data: blob:; style-src 'self' 'unsafe-inline' data:; script-src 'none'; "
    "object-src 'none'; form-action 'self'; frame-ancestors *"
)
_REPO_VENV = Path(__file__).resolve().parents[2] / ".venv-pywb" / "bin" / "wayback"
#: Where pywb itself listens: only the proxy in this process talks to it.
_INTERNAL_HOST = "127.0.0.1"


class PywbError(NewsArchiveError, RuntimeError):
    """pywb is not installed, or did not start."""


def find_wayback(explicit: str | None = None) -> Path:
    """pywb's ``wayback`` program: given, from ``$NEWSARCHIVE_PYWB``, the checkout's ``.venv-pywb``, or the PATH."""
    for candidate in (explicit, os.environ.get(PYWB_ENV), str(_REPO_VENV), shutil.which("wayback")):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise PywbError(
        "pywb is not installed: run `make pywb` (it builds .venv-pywb), "
        f"or point --pywb or ${PYWB_ENV} at its `wayback` program"
    )


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class PywbServer:
    """A ``wayback`` child process on an internal loopback port, behind a :class:`SandboxProxy` listening on
    ``host``:``port`` (any free port if 0); a context manager that stops both on exit.

    pywb never outlives this object's process: :meth:`stop` ends it (``serve`` calls it however it ends), a
    start that fails or is interrupted ends it, and on Linux the kernel sends it SIGTERM if its parent dies.
    The proxy is a thread of this process, so it ends with it.
    """

    def __init__(self, paths: ArchivePaths, wayback: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.paths = paths
        self.wayback = wayback
        self.host = host
        self.port = port
        self._root: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._proxy: SandboxProxy | None = None
        self._internal_port = 0

    @property
    def url(self) -> str:
        """The public replay address (the proxy's), once started."""
        if self._proxy is None:
            raise PywbError("pywb is not running")
        return self._proxy.url

    @property
    def pid(self) -> int | None:
        """The ``wayback`` process's id while it runs."""
        return self._process.pid if self._process else None

    def start(self, timeout: float = 60.0) -> PywbServer:
        self._internal_port = free_port(_INTERNAL_HOST)
        try:  # the public port first: a port taken fails before pywb starts
            self._proxy = SandboxProxy((self.host, self.port), (_INTERNAL_HOST, self._internal_port), REPLAY_CSP)
        except OSError as e:
            raise PywbError(f"cannot listen on {self.host}:{self.port}: {e.strerror or e}") from e
        try:
            self._start_wayback(timeout)
            # only now a thread: the fork above must come before any (and the kernel ties PDEATHSIG to the
            # thread that forked, the main one)
            self._proxy.start()
        except BaseException:  # an error, Ctrl-C or a stop signal while starting: pywb must not stay behind
            self.stop()
            raise
        return self

    def _start_wayback(self, timeout: float) -> None:
        self._root = tempfile.TemporaryDirectory(prefix="newsarchive-pywb-")
        root = Path(self._root.name)
        (root / "config.yaml").write_text(  # (no csp-header: the proxy replaces whatever pywb sends)
            "framed_replay: false\n"
            "collections:\n"
            f"  {COLLECTION}:\n"
            f"    index_paths: {self.paths.index_dir}/\n"
            f"    archive_paths: {self.paths.warc_dir}/\n",
            encoding="utf-8",
        )
        log = (root / "wayback.log").open("wb")
        self._process = subprocess.Popen(
            [str(self.wayback), "--bind", _INTERNAL_HOST, "--port", str(self._internal_port)],
            cwd=root,
            stdout=log,
            stderr=log,
            preexec_fn=parent_death_signal(signal.SIGTERM, os.getpid()),  # (before any thread of serve's own)
        )
        log.close()
        self._wait_until_up(root, timeout)

    def _wait_until_up(self, root: Path, timeout: float) -> None:
        assert self._process is not None
        internal = f"http://{_INTERNAL_HOST}:{self._internal_port}"
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                output = (root / "wayback.log").read_text(errors="replace")[-2000:]
                raise PywbError(f"pywb exited at start:\n{output}")
            try:
                with urllib.request.urlopen(f"{internal}/{COLLECTION}/cdx?url=x&limit=1", timeout=5):  # noqa: S310
                    return
            except (URLError, ConnectionError):
                if time.monotonic() > deadline:
                    raise PywbError(f"pywb did not answer on {internal} within {timeout:.0f}s") from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self._proxy is not None:
            self._proxy.stop()
            self._proxy = None
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._root is not None:
            self._root.cleanup()
            self._root = None

    def __enter__(self) -> PywbServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
