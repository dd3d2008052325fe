"""A streaming reverse proxy that puts one Content-Security-Policy on every answer of the server behind it.

pywb sends its configured policy only in its rewritten replay mode: its raw
modifiers (``id_``, ``mp_``, ``if_``, ``js_``, ...), its error pages and its
other endpoints answer without one, so a pywb address typed by hand would run
an archived page's scripts at the top level of pywb's origin. pywb therefore
listens on an internal loopback port, and the browser only ever reaches it
through this proxy, which replaces whatever policy pywb sent (or none) with
ours. Its own answers (a gateway error, a malformed request) carry the policy
too.

Everything else passes through as pywb sent it: status, headers (but the
hop-by-hop ones, RFC 9110 7.6.1), ranges, HEAD. Bodies are streamed in
chunks, never held whole, and the client's ``Host`` is passed on, so pywb's
rewritten links name the public address.
"""

from __future__ import annotations

import http.client
import logging
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["CHUNK_SIZE", "SandboxProxy"]

logger = logging.getLogger(__name__)

#: How much of a body the proxy holds at once, either way.
CHUNK_SIZE = 64 * 1024
#: Seconds to wait for the server behind (to connect, then between reads), and for an idle client.
TIMEOUT = 60.0
#: Headers that concern one connection only, never forwarded (with those the Connection header names).
HOP_BY_HOP = frozenset(
    (
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",  # answered here (100 Continue) by the stdlib's handler
    )
)
#: The upstream's own policies, replaced by the proxy's.
POLICY_HEADERS = frozenset(("content-security-policy", "content-security-policy-report-only"))


def _forwarded(headers: list[tuple[str, str]], also_dropped: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """``headers`` without the hop-by-hop ones, those named by Connection, and ``also_dropped``."""
    named = {
        token.strip().lower() for name, value in headers if name.lower() == "connection" for token in value.split(",")
    }
    dropped = HOP_BY_HOP | named | also_dropped
    return [(name, value) for name, value in headers if name.lower() not in dropped]


class _ClientGone(Exception):
    """The client stopped (or stalled) before sending its whole request body: nobody to answer."""


class _ProxyHandler(BaseHTTPRequestHandler):
    """Forwards one request at a time of a client connection (HTTP/1.1 keep-alive) to the server behind."""

    protocol_version = "HTTP/1.1"
    timeout = TIMEOUT
    server: _ProxyServer

    def end_headers(self) -> None:
        """Every answer, forwarded or the proxy's own, carries the policy."""
        self.send_header("Content-Security-Policy", self.server.policy)
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib name)
        """The access log goes to logging (debug), not to ``serve``'s terminal."""
        logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._forward()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = do_GET

    def _forward(self) -> None:
        if not self.path.startswith("/"):  # absolute-form: a forward-proxy request, not ours to serve
            self.send_error(400, "Not a proxy for other hosts")
            return
        if "transfer-encoding" in (name.lower() for name in self.headers):
            self.send_error(411, "A request body needs a Content-Length")
            return
        length = self.headers.get("Content-Length", "0")
        if not (length.isascii() and length.isdigit()):  # no sign, no spaces, one value only
            self.send_error(400, "Bad Content-Length")
            return
        host, port = self.server.upstream
        upstream = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
        try:
            try:
                response = self._ask(upstream, int(length))
            except _ClientGone:
                self.close_connection = True
                return
            except TimeoutError:
                self.send_error(504, "The replay server did not answer in time")
                return
            except (OSError, http.client.HTTPException) as e:
                logger.warning("replay server %s:%s: %s", host, port, e)
                self.send_error(502, "The replay server is not answering")
                return
            self._answer(response)
        finally:
            upstream.close()

    def _ask(self, upstream: http.client.HTTPConnection, length: int) -> http.client.HTTPResponse:
        """Send the request on (its body in chunks) and read the answer's head."""
        upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        headers = _forwarded(list(self.headers.items()))
        if not any(name.lower() == "host" for name, _ in headers):  # (HTTP/1.0 clients may send none)
            headers.append(("Host", f"{self.server.server_name}:{self.server.server_port}"))
        for name, value in headers:
            upstream.putheader(name, value)
        upstream.endheaders()
        while length > 0:
            try:
                chunk = self.rfile.read(min(length, CHUNK_SIZE))
            except OSError as e:
                raise _ClientGone from e
            if not chunk:
                raise _ClientGone
            upstream.send(chunk)
            length -= len(chunk)
        return upstream.getresponse()

    def _answer(self, response: http.client.HTTPResponse) -> None:
        """Pass the answer on: status, end-to-end headers, the body as it arrives."""
        status = response.status
        bodiless = self.command == "HEAD" or status in (204, 304) or 100 <= status < 200
        sized = response.getheader("Content-Length") is not None
        chunked = not bodiless and not sized and self.request_version == "HTTP/1.1"
        if not (bodiless or sized or chunked):
            self.close_connection = True  # an HTTP/1.0 client: the body ends when the connection does
        self.send_response_only(status, response.reason)
        for name, value in _forwarded(response.getheaders(), POLICY_HEADERS):
            self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if bodiless:
            return
        try:
            while chunk := response.read1(CHUNK_SIZE):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
            if response.length:  # the server behind stopped short of its Content-Length: so must the client's
                self.close_connection = True
        except (OSError, http.client.HTTPException) as e:  # too late for an error status: end the connection
            logger.debug("answer for %s cut short: %s", self.path, e)  # (mostly a browser that stopped reading)
            self.close_connection = True


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 64  # a page's requisites arrive in a burst

    def __init__(self, address: tuple[str, int], upstream: tuple[str, int], policy: str) -> None:
        self.upstream = upstream
        self.policy = policy
        super().__init__(address, _ProxyHandler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup of the address (slow offline)."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: object, client_address: object) -> None:
        """A client hanging up is ordinary; say it quietly."""
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)


class SandboxProxy:
    """Listens on ``address`` as soon as it is made (a port taken fails here), serves from :meth:`start`.

    Its threads are daemons of the calling process: it ends with it.
    """

    def __init__(self, address: tuple[str, int], upstream: tuple[str, int], policy: str) -> None:
        self._server = _ProxyServer(address, upstream, policy)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self._server.server_name}:{self._server.server_port}"

    def start(self) -> SandboxProxy:
        self._thread = threading.Thread(target=self._server.serve_forever, name="replay-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting and close the port (answers under way end with the process or their time-out)."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()
