"""pywb, run beside the web app as its own process over the archive's WARC and index folders.

pywb is GPL-3.0: it is started as a program (``wayback`` from ``.venv-pywb``,
built by ``make pywb``), never imported. It serves one collection, ``archive``,
straight from ``<data>/indexes`` and ``<data>/warcs``, in non-framed mode: the
app frames it itself, in a sandboxed iframe. pywb rewrites every link, image
and stylesheet of a replayed page to point back into the archive, and the
Content-Security-Policy it is configured to send confines the page to pywb's
own origin, so an archived page never reaches the live web.
"""

from __future__ import annotations

import os
import shutil
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

__all__ = ["COLLECTION", "PYWB_ENV", "PywbError", "PywbServer", "find_wayback"]

COLLECTION = "archive"
PYWB_ENV = "NEWSARCHIVE_PYWB"
#: What a replayed page may load: only pywb's own origin (inline code and data: URLs for archived pages' own).
REPLAY_CSP = "default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:; form-action 'self'; frame-ancestors *"
_REPO_VENV = Path(__file__).resolve().parents[2] / ".venv-pywb" / "bin" / "wayback"


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
    """A ``wayback`` child process on a loopback port; a context manager that stops it on exit."""

    def __init__(self, paths: ArchivePaths, wayback: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.paths = paths
        self.wayback = wayback
        self.host = host
        self.port = port or free_port(host)
        self._root: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 60.0) -> PywbServer:
        self._root = tempfile.TemporaryDirectory(prefix="newsarchive-pywb-")
        root = Path(self._root.name)
        (root / "config.yaml").write_text(
            "framed_replay: false\n"
            f'csp-header: "{REPLAY_CSP}"\n'
            "collections:\n"
            f"  {COLLECTION}:\n"
            f"    index_paths: {self.paths.index_dir}/\n"
            f"    archive_paths: {self.paths.warc_dir}/\n",
            encoding="utf-8",
        )
        log = (root / "wayback.log").open("wb")
        self._process = subprocess.Popen(
            [str(self.wayback), "--bind", self.host, "--port", str(self.port)], cwd=root, stdout=log, stderr=log
        )
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                output = (root / "wayback.log").read_text(errors="replace")[-2000:]
                self.stop()
                raise PywbError(f"pywb exited at start:\n{output}")
            try:
                with urllib.request.urlopen(f"{self.url}/{COLLECTION}/cdx?url=x&limit=1", timeout=5):  # noqa: S310
                    return self
            except (URLError, ConnectionError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise PywbError(f"pywb did not answer on {self.url} within {timeout:.0f}s") from None
                time.sleep(0.2)

    def stop(self) -> None:
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
