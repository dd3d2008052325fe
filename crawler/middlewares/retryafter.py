"""Honour ``Retry-After`` on 429 and 503 answers and back off per download slot.

When a site answers 429 (Too Many Requests) or 503 (Service Unavailable),
:class:`RetryAfterMiddleware` pauses the download slot of that host (other
hosts keep going), retries the request once the pause is over, and returns the
answer as is once the retries are used up, so the crawl still archives it.

How long the pause lasts
========================
* ``Retry-After: <delta-seconds>`` or ``Retry-After: <HTTP-date>`` (IMF-fixdate,
  RFC 850 or asctime; measured against the answer's ``Date`` header when it
  has one, so a skewed local clock does not matter);
* without a usable header, an exponential back-off per slot:
  ``RETRY_AFTER_BASE_DELAY * 2 ** (n - 1)`` for the *n*-th 429/503 in a row;
* either way capped at ``RETRY_AFTER_MAX_DELAY``.

Answers to requests that were already in flight when the slot was paused
extend the pause if they ask for longer, but do not count as a new failure,
so eight parallel 429s double the back-off once, not eight times. The first
non-429/503 answer to a request sent *after* the latest pause resets the
slot's back-off; a stale success from before the pause does not cut it short.

How the pause works, and why not through the slot's delay
=========================================================
``process_request`` is a coroutine that awaits (``scrapy.utils.asyncio.sleep``,
never ``time.sleep``) until the slot's not-before time, before the request
enters the downloader slot. The state is the middleware's own: one record per
slot key (``Downloader.get_slot_key``: the host name, the IP address under
``CONCURRENT_REQUESTS_PER_IP``, or the ``download_slot`` meta key).

Raising ``Slot.delay`` instead looks natural but is wrong for Scrapy's design:

* ``Slot.delay`` spaces *every* request of the slot, it is not a one-off
  pause, and it is randomised by ``DOWNLOAD_DELAY_JITTER`` (±50 % by default),
  so a 30 s ``Retry-After`` could turn into 15 s;
* AutoThrottle rewrites ``Slot.delay`` on each downloaded response and clamps
  it to ``AUTOTHROTTLE_MAX_DELAY`` (60 s), so the next answer from a request
  in flight would cancel a longer pause, and restoring the delay afterwards
  would fight AutoThrottle;
* the downloader drops idle slots after about a minute, and the pause with it.

Holding ``Slot.latercall`` would avoid the jitter but needs the downloader's
private methods and is lost with the slot all the same. Waiting in
``process_request`` touches no Scrapy internals, and ``DOWNLOAD_DELAY``,
jitter and AutoThrottle still space the requests once the pause is over.

Trade-off: like requests queued behind ``DOWNLOAD_DELAY`` in a slot, a waiting
request counts against ``CONCURRENT_REQUESTS``. Keep that setting well above
``CONCURRENT_REQUESTS_PER_DOMAIN`` so that one paused host cannot take every
place. On a graceful stop (``Crawler.stop()``, first Ctrl-C) waiting requests
are dropped with ``IgnoreRequest`` within a second instead of holding the
shutdown for up to ``RETRY_AFTER_MAX_DELAY``; a close by ``CLOSESPIDER_*``
waits for them.

Registration and interplay
==========================
The add-on (:mod:`crawler.addon`) registers it at **650** and applies the
defaults of its settings. ``process_response`` runs from the highest number
down, so at 650 the middleware sees 429/503 answers after
``CookiesMiddleware`` (700, which keeps any cookie the answer sets) and before ``RedirectMiddleware`` (600),
``HttpCompressionMiddleware`` (590), ``MetaRefreshMiddleware`` (580, which
would follow a meta refresh on a 503 page) and ``RetryMiddleware`` (550, which
retries 429 and 503 at once by default). Returning the retry request ends the
chain there, so ``RetryMiddleware`` never retries these answers a second time.
On the request side the wait comes after the headers middlewares and before
cookies, proxy, ``DownloaderStats`` (850: ``downloader/request_count`` counts
real sends) and the HTTP cache.

* Retries go through :func:`scrapy.downloadermiddlewares.retry.get_retry_request`,
  so ``RETRY_TIMES``, ``RETRY_PRIORITY_ADJUST``, ``RETRY_GIVE_UP_LOG_LEVEL``,
  the ``max_retry_times``, ``priority_adjust`` and ``give_up_log_level`` meta
  keys, the ``retry/*`` stats and the log lines are Scrapy's; the retry count
  in ``meta["retry_times"]`` is shared with ``RetryMiddleware``.
* Once the retries are used up the answer is returned with
  ``meta["dont_retry"] = True``, so ``RetryMiddleware`` neither retries it nor
  counts and logs the give-up twice.
* ``RETRY_ENABLED = False`` or ``meta["dont_retry"]``: the slot is still paused
  (the site asked for it), but the request is not retried.
* AutoThrottle keeps adjusting ``Slot.delay`` from latencies; it never lowers
  the delay on a non-200 answer, and this middleware never touches it.
* Answers replayed by ``HttpCacheMiddleware`` (flag ``cached``) are left alone:
  no host was contacted.

Settings
========
``RETRY_AFTER_ENABLED`` (``False`` raises ``NotConfigured``),
``RETRY_AFTER_HTTP_CODES``, ``RETRY_AFTER_BASE_DELAY`` and
``RETRY_AFTER_MAX_DELAY``, used as described above; their defaults are in
the table in :mod:`crawler.settings`.

Stats
=====
``retry_after/response_count/<status>``, ``retry_after/delay/header``,
``retry_after/delay/backoff``, ``retry_after/delay/capped``,
``retry_after/delay/max`` (longest pause set, seconds),
``retry_after/waited_requests``, ``retry_after/waited_seconds``,
``retry_after/reset``, ``retry_after/dropped_on_shutdown``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from itertools import count
from time import monotonic
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from scrapy import signals
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.asyncio import sleep
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message

if TYPE_CHECKING:
    from typing import Self

    from scrapy.core.downloader import Downloader
    from scrapy.core.engine import ExecutionEngine
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

__all__ = ["RetryAfterMiddleware", "parse_retry_after"]

logger = logging.getLogger(__name__)

_DELTA_SECONDS = re.compile(r"\d+(?:\.\d+)?")
# Longest single sleep, so that a stopping crawl is noticed within a second.
_POLL_INTERVAL = 1.0
# 2 ** 64 times any sane base delay is far beyond any cap; avoids OverflowError.
_MAX_EXPONENT = 64


def parse_retry_after(value: bytes | str | None, *, now: datetime | None = None) -> float | None:
    """Return the seconds a ``Retry-After`` value asks to wait, or ``None``.

    *value* is delta-seconds or an HTTP-date; a date is measured from *now*
    (default: the current UTC time) and a past date gives ``0.0``. ``None`` is
    returned for a missing or unparsable value.
    """
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    value = value.strip()
    if not value:
        return None
    if _DELTA_SECONDS.fullmatch(value):
        return float(value)
    when = _parse_http_date(value)
    if when is None:
        return None
    if now is None:
        now = datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def _parse_http_date(value: bytes | str | None) -> datetime | None:
    """Return an HTTP-date as an aware UTC datetime, or ``None``."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # asctime and "-0000" dates: HTTP dates are GMT
        when = when.replace(tzinfo=UTC)
    return when


@dataclass(slots=True)
class _SlotState:
    """Back-off state of one download slot."""

    not_before: float = 0.0  # time.monotonic() value
    failures: int = 0  # 429/503 answers in a row
    epoch: int = 0  # changes with each new failure


class RetryAfterMiddleware:
    """Pause a host's download slot on 429/503 and retry once the pause is over."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("RETRY_AFTER_ENABLED"):
            raise NotConfigured
        self.http_codes: frozenset[int] = frozenset(int(code) for code in settings.getlist("RETRY_AFTER_HTTP_CODES"))
        if not self.http_codes:
            raise NotConfigured("RETRY_AFTER_HTTP_CODES is empty")
        self.base_delay: float = settings.getfloat("RETRY_AFTER_BASE_DELAY")
        self.max_delay: float = settings.getfloat("RETRY_AFTER_MAX_DELAY")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError(
                "RETRY_AFTER_BASE_DELAY and RETRY_AFTER_MAX_DELAY must not be "
                f"negative, got {self.base_delay!r} and {self.max_delay!r}"
            )
        self.retry_enabled: bool = settings.getbool("RETRY_ENABLED")
        self.crawler = crawler
        self._slots: dict[str, _SlotState] = {}
        self._epochs = count(1)
        # Epoch of its slot when each request left process_request.
        self._sent_epoch: WeakKeyDictionary[Request, int] = WeakKeyDictionary()
        self._engine: ExecutionEngine | None = None
        self._downloader: Downloader | None = None
        crawler.signals.connect(self._engine_started, signal=signals.engine_started)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _engine_started(self) -> None:
        self._engine = self.crawler.engine
        self._downloader = self.crawler.engine.downloader

    def slot_key(self, request: Request) -> str:
        """Return the download slot key of *request*, as the downloader does."""
        if self._downloader is not None:
            return self._downloader.get_slot_key(request)
        meta_slot: str | None = request.meta.get("download_slot")
        if meta_slot is not None:
            return meta_slot
        return urlparse_cached(request).hostname or ""

    def remaining_pause(self, request: Request) -> float:
        """Return the seconds until the slot of *request* may be contacted."""
        state = self._slots.get(self.slot_key(request))
        if state is None:
            return 0.0
        return max(0.0, state.not_before - monotonic())

    async def process_request(self, request: Request) -> None:
        key = self.slot_key(request)
        if self.remaining_pause(request) > 0:
            await self._wait(request, key)
        state = self._slots.get(key)
        self._sent_epoch[request] = state.epoch if state is not None else 0

    async def _wait(self, request: Request, key: str) -> None:
        stats = self.crawler.stats
        stats.inc_value("retry_after/waited_requests")
        started = monotonic()
        # Only a crawl seen running can be seen stopping (the shell never runs).
        engine = self._engine
        if engine is not None and not engine.running:
            engine = None
        try:
            while (remaining := self.remaining_pause(request)) > 0:
                if engine is not None and not engine.running:
                    stats.inc_value("retry_after/dropped_on_shutdown")
                    raise IgnoreRequest(f"Crawl stopping while slot {key!r} waits for Retry-After")
                await sleep(min(remaining, _POLL_INTERVAL))
        finally:
            stats.inc_value("retry_after/waited_seconds", monotonic() - started)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if "cached" in response.flags:
            return response
        key = self.slot_key(request)
        if response.status not in self.http_codes:
            self._reset(request, key)
            return response
        self._pause(request, response, key)
        if not self.retry_enabled or request.meta.get("dont_retry", False):
            return response
        new_request = get_retry_request(
            request,
            spider=self.crawler.spider,
            reason=response_status_message(response.status),
            priority_adjust=request.meta.get("priority_adjust"),
            give_up_log_level=request.meta.get("give_up_log_level"),
        )
        if new_request is None:
            # Retries used up: keep RetryMiddleware from retrying it again.
            request.meta["dont_retry"] = True
            return response
        return new_request

    def _pause(self, request: Request, response: Response, key: str) -> None:
        stats = self.crawler.stats
        stats.inc_value(f"retry_after/response_count/{response.status}")
        now = monotonic()
        state = self._slots.setdefault(key, _SlotState())
        # A request sent before the latest pause was set is not a new failure.
        new_failure = state.failures == 0 or self._sent_epoch.get(request, state.epoch) == state.epoch
        if new_failure:
            state.failures += 1
            state.epoch = next(self._epochs)

        header = response.headers.get(b"Retry-After")
        server_now = _parse_http_date(response.headers.get(b"Date"))
        delay = parse_retry_after(header, now=server_now)
        if delay is None:
            source = "backoff"
            delay = self.base_delay * 2.0 ** min(state.failures - 1, _MAX_EXPONENT)
        else:
            source = "header"
        stats.inc_value(f"retry_after/delay/{source}")
        if delay > self.max_delay:
            stats.inc_value("retry_after/delay/capped")
            delay = self.max_delay
        stats.max_value("retry_after/delay/max", delay)
        state.not_before = max(state.not_before, now + delay)

        logger.log(
            logging.INFO if new_failure else logging.DEBUG,
            "Pausing download slot %(slot)r for %(delay).1f s after %(status)d "
            "from %(request)s (%(source)s, Retry-After: %(header)r, failure %(n)d)",
            {
                "slot": key,
                "delay": delay,
                "status": response.status,
                "request": request,
                "source": source,
                "header": header.decode("latin-1") if header is not None else None,
                "n": state.failures,
            },
        )
        self.slot_paused(request, key, delay)

    def slot_paused(self, request: Request, key: str, delay: float) -> None:
        """Hook called once slot *key* is paused for *delay* seconds (capped) after *request*'s answer.

        Does nothing here; a distributed crawl shares the pause with its other
        workers (``crawler.distributed.retryafter``).
        """

    def _reset(self, request: Request, key: str) -> None:
        state = self._slots.get(key)
        if state is None:
            return
        sent_after_pause = self._sent_epoch.get(request, state.epoch) == state.epoch
        if sent_after_pause and state.not_before <= monotonic():
            del self._slots[key]
            self.crawler.stats.inc_value("retry_after/reset")
            logger.debug("Back-off of download slot %(slot)r reset", {"slot": key})
