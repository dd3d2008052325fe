"""Conditional requests: a recheck asks the server whether the article changed since its last capture.

A request rechecking a known article (``request.meta[RECHECK_META]``, set by
the recheck spider or by :class:`~crawler.middlewares.known.KnownArticlesMiddleware`)
is sent with ``If-None-Match`` (the last ETag) and ``If-Modified-Since`` (the
last Last-Modified) as RFC 9110 has a cache do; an unchanged article then
costs a 304 without a body, which the recorder archives as a
server-not-modified revisit of the capture holding the body
(:func:`archive.dedup.not_modified`). Headers a request already carries are
left alone. Redirects keep the headers, so a listed address that redirects
to the article asks the article itself.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.schedule import RECHECK_META

#: The statuses a recheck's callback sees: a 304 is an answer, not an error.
NOT_MODIFIED = 304


class ConditionalRequestMiddleware:
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        if not crawler.settings.getbool("RECHECK_CONDITIONAL"):
            raise NotConfigured
        return cls()

    def process_request(self, request: Request) -> None:
        check = request.meta.get(RECHECK_META)
        if check is None:
            return
        if check.etag and b"If-None-Match" not in request.headers:
            request.headers[b"If-None-Match"] = check.etag.encode("latin-1", "replace")
        if check.last_modified and b"If-Modified-Since" not in request.headers:
            request.headers[b"If-Modified-Since"] = check.last_modified.encode("latin-1", "replace")


def conditional(request: Request) -> bool:
    """Whether the request asked the server to answer 304 if unchanged."""
    return b"If-None-Match" in request.headers or b"If-Modified-Since" in request.headers
