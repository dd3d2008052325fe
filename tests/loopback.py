"""The base of the tests' HTTP servers: a threading server on a free loopback port, its
start and stop, and the host routing of a plain-HTTP forward proxy.

A test web subclasses :class:`Loopback` and names its request handler (a
:class:`LoopbackHandler`), which reaches the web through ``self.server.web``.
Crawls point ``http_proxy`` at :attr:`Loopback.url`, so requests keep their real
addresses, and :func:`proxy_target` says which host and path each one asked for.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Generic, Self, TypeVar
from urllib.parse import urlsplit

__all__ = ["Loopback", "LoopbackHandler", "LoopbackServer", "Target", "proxy_target"]

logger = logging.getLogger(__name__)

W = TypeVar("W", bound="Loopback")

#: How often the accept loop checks whether it should stop.
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Target:
    """What a request asked for: its absolute URL (as sent, or rebuilt from the Host
    header), the lower-case host name without port, and the path with its query."""

    url: str
    host: str
    path: str


def proxy_target(request_target: str, host_header: str | None) -> Target | None:
    """The target of a request, taking the absolute form a proxy receives before the
    Host header (RFC 9112 3.2.2); None when neither names a host."""
    if request_target.lower().startswith(("http://", "https://")):
        parts = urlsplit(request_target)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return Target(request_target, parts.hostname, path) if parts.hostname else None
    if not request_target.startswith("/") or not host_header:
        return None
    host = urlsplit(f"//{host_header}").hostname
    return Target(f"http://{host_header}{request_target}", host, request_target) if host else None


class LoopbackHandler(BaseHTTPRequestHandler):
    """A request handler whose access log goes to logging (debug) instead of stderr."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib name)
        """Route the stdlib's access log to logging."""
        logger.debug("%s " + format, self.address_string(), *args)


class LoopbackServer(ThreadingHTTPServer, Generic[W]):
    """A ThreadingHTTPServer that binds without a reverse DNS lookup, logs client hang-ups
    quietly, and remembers its connections so :meth:`close_connections` can end them."""

    daemon_threads = True
    # Scrapy opens a burst of connections at start; the default backlog of 5 drops some.
    request_queue_size = 128
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], web: W) -> None:
        self.web = web
        self._lock = threading.Lock()
        self._active: dict[threading.Thread, socket.socket] = {}
        super().__init__(address, handler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup of the address (slow offline)."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def process_request(self, request: socket.socket, client_address: tuple[str, int]) -> None:  # type: ignore[override]
        """Handle each connection in a daemon thread that is tracked until it ends."""
        thread = threading.Thread(
            target=self._run_connection,
            args=(request, client_address),
            name=f"{self.web.name}-{client_address[1]}",
            daemon=True,
        )
        with self._lock:
            self._active[thread] = request
        thread.start()

    def _run_connection(self, request: socket.socket, client_address: tuple[str, int]) -> None:
        """Serve one connection, then forget it."""
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._lock:
                self._active.pop(threading.current_thread(), None)

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that hang up are normal here; log them quietly, not on stderr."""
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)

    def close_connections(self, timeout: float) -> None:
        """Shut down open connections (idle keep-alives included) and join their threads."""
        with self._lock:
            active = list(self._active.items())
        for _, sock in active:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        for thread, _ in active:
            thread.join(max(0.0, deadline - time.monotonic()))


class Loopback:
    """A web served by ``handler`` on a loopback port (a free one unless ``port`` is
    given) while started; use as a context manager."""

    #: The request handler class; it finds this object at ``self.server.web``.
    handler: type[BaseHTTPRequestHandler]
    #: Names the server's threads (``<name>-accept``, ``<name>-<client port>``).
    name = "loopback"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.requested_port = port
        self._server: LoopbackServer[Self] | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        """Bind the port and serve in a background thread."""
        if self._server is not None:
            raise RuntimeError(f"{type(self).__name__} is already running")
        self._server = LoopbackServer((self.host, self.requested_port), self.handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": POLL_SECONDS},
            name=f"{self.name}-accept",
            daemon=True,
        )
        self._thread.start()
        logger.debug("%s listening on %s", self.name, self.url)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, end open connections, close the port."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.close_connections(timeout)
        server.server_close()
        if thread is not None:
            thread.join(timeout)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        """Start on entry."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop on exit, whatever happened inside."""
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (only while running)."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://host:port``: the base URL of the server, or what to put in ``http_proxy``."""
        return f"http://{self.host}:{self.port}"


def raw_exchange(port: int, request: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    """Send raw request bytes to a loopback server and read until it closes: the status line,
    the header lines as (name, value), and the rest as sent (framing kept)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    return (
        status_line,
        [(name.strip(), value.strip()) for name, _, value in (line.partition(":") for line in lines)],
        rest,
    )
