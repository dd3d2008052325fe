"""An HTTP download handler that keeps the response head exactly as it came off the wire.

Scrapy's HTTP/1.1 handler hands responses over after Twisted has parsed them:
header names lower-cased then title-cased, repeated headers grouped, the
reason phrase dropped, and the connection headers (``Content-Length``,
``Connection``, ``Keep-Alive``, ``Transfer-Encoding``...) left out of
``response.headers`` altogether. An archive must keep what the server sent,
so :class:`RawHeadHTTPDownloadHandler` is Scrapy's own handler with one
addition: its response parser also keeps the status line and header lines
verbatim, and the handler puts them, with their line endings and the blank
line that ends them, in ``request.meta["raw_response_head"]`` before the
response is returned, where the WARC recorder reads them on
``response_downloaded``. Nothing else changes: Scrapy's lenient parsing,
pooling, proxies, TLS, timeouts and size limits are the parent's.

Nothing is patched globally. The hooks are the ones Scrapy itself uses for
its lenient parser: the pool's protocol factory, and the parser class set on
each request. They are private names of Scrapy and Twisted, so
``download_request`` below mirrors ``HTTP11DownloadHandler.download_request``
of Scrapy 2.19 to use an agent that reads the kept head; the crawl tests
fail if an upgrade breaks this (every response record is checked for the
server's own header lines).

Enabled in ``crawler/settings.py`` for ``http`` and ``https``
(``DOWNLOAD_HANDLERS``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.core.downloader.handlers.http11 import (
    HTTP11DownloadHandler,
    _LenientHTTP11ClientFactory,
    _LenientHTTP11ClientProtocol,
    _LenientHTTPClientParser,
    _ScrapyAgent,
)
from scrapy.exceptions import ResponseDataLossError
from scrapy.utils._download_handlers import get_dataloss_msg, wrap_twisted_exceptions
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.web._newclient import STATUS

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.internet.defer import Deferred
    from twisted.internet.interfaces import IAddress
    from twisted.web._newclient import Request as TxRequest
    from twisted.web.iweb import IResponse

logger = logging.getLogger(__name__)

#: ``request.meta`` key holding the response head as received (bytes).
RAW_HEAD_META = "raw_response_head"
#: Attribute of Twisted's response object that carries the head from the parser to the agent.
_RAW_HEAD_ATTR = "_newsarchive_raw_head"


class _RawHeadParser(_LenientHTTPClientParser):
    """Scrapy's lenient response parser, keeping every head line as received."""

    _head_lines: list[bytes]

    def lineReceived(self, line: bytes) -> None:
        # A line arrives without its "\n" (a "\r" before it is still there). A new
        # status line starts a new head: the one after an ignored 1xx answer.
        if self.state == STATUS:
            self._head_lines = []
        self._head_lines.append(line)
        super().lineReceived(line)

    def allHeadersReceived(self) -> None:
        # Before the parent, whose last act is to hand the response on.
        setattr(self.response, _RAW_HEAD_ATTR, b"".join(line + b"\n" for line in self._head_lines))
        super().allHeadersReceived()


class _RawHeadProtocol(_LenientHTTP11ClientProtocol):
    def request(self, request: TxRequest) -> Deferred[IResponse]:
        d = super().request(request)
        # As Scrapy does for its lenient parser: the parser has no extra state to set up.
        if type(self._parser) is _LenientHTTPClientParser:
            self._parser.__class__ = _RawHeadParser
        return d


class _RawHeadClientFactory(_LenientHTTP11ClientFactory):
    def buildProtocol(self, addr: IAddress | None) -> _RawHeadProtocol:
        return _RawHeadProtocol(self._quiescentCallback)  # type: ignore[no-untyped-call]


class _RawHeadAgent(_ScrapyAgent):
    def _cb_bodyready(self, txresponse: Any, request: Request) -> Any:
        head = getattr(txresponse, _RAW_HEAD_ATTR, None)
        if head is not None:
            request.meta[RAW_HEAD_META] = head
        return super()._cb_bodyready(txresponse, request)


class RawHeadHTTPDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler, also giving the raw response head in ``request.meta["raw_response_head"]``."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._pool._factory = _RawHeadClientFactory

    async def download_request(self, request: Request) -> Response:
        # A redirect or retry copies meta: never let an earlier answer's head stand for this one.
        request.meta.pop(RAW_HEAD_META, None)
        agent = _RawHeadAgent(
            contextFactory=self._contextFactory,
            bindAddress=self._bind_address,
            pool=self._pool,
            maxsize=self._default_maxsize,
            warnsize=self._default_warnsize,
            fail_on_dataloss=self._fail_on_dataloss,
            crawler=self._crawler,
            tls_verbose_logging=self._tls_verbose_logging,
        )
        try:
            with wrap_twisted_exceptions():
                return await maybe_deferred_to_future(agent.download_request(request))
        except ResponseDataLossError:
            if not self._fail_on_dataloss_warned:
                logger.warning(get_dataloss_msg(request.url))
                self._fail_on_dataloss_warned = True
            raise
