"""The discovery outlets served on loopback as a plain-HTTP forward proxy, like the fixture web.

Requests keep their real addresses (``http://www.wp-ledger.org/feed/``);
:attr:`DiscoveryWeb.url` goes in ``http_proxy``. Every answer is made in
advance (:func:`tests.discoveryweb.outlets.build`), so the server only looks
URLs up: a redirect, a page, the "not found" page of the outlet that never
answers 404 (with status 200), or a 404.
"""

from __future__ import annotations

import threading

from tests.discoveryweb.outlets import HTML, DiscoveryWebData, Response, build
from tests.loopback import Loopback, LoopbackHandler, proxy_target

__all__ = ["DiscoveryWeb"]

_NOT_FOUND = Response(
    404, b"<!DOCTYPE html><html><head><title>404 Not Found</title></head><body></body></html>\n", HTML
)


class _Handler(LoopbackHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (stdlib name)
        """Answer from the prepared responses."""
        self._answer(head=False)

    def do_HEAD(self) -> None:  # noqa: N802 (stdlib name)
        """GET's headers without the body."""
        self._answer(head=True)

    def _answer(self, head: bool) -> None:
        web: DiscoveryWeb = self.server.web  # type: ignore[attr-defined]
        target = proxy_target(self.path, self.headers.get("Host"))
        response = web.respond(target.url if target else "", target.host if target else "")
        with web.lock:
            web.requests.append(target.url if target else self.path)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        if response.location:
            self.send_header("Location", response.location)
        self.end_headers()
        if not head:
            self.wfile.write(response.body)


class DiscoveryWeb(Loopback):
    """The discovery outlets on a free loopback port; :attr:`requests` lists every URL asked for."""

    name = "discoveryweb"
    handler = _Handler

    def __init__(self) -> None:
        super().__init__()
        self.data: DiscoveryWebData = build()
        self.requests: list[str] = []
        self.lock = threading.Lock()

    def respond(self, url: str, host: str) -> Response:
        """The answer for an absolute URL: prepared, the soft "not found" page, or a 404."""
        found = self.data.responses.get(url)
        if found is not None:
            return found
        if host in self.data.soft_404:
            return Response(200, self.data.soft_404[host], HTML)
        return _NOT_FOUND
