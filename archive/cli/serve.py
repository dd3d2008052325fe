"""``newsarchive serve``: the researchers' web app on loopback, with pywb replaying pages beside it.

pywb is a child process, and it must never outlive the app: ``serve`` stops
it however it ends. Ctrl-C (SIGINT), SIGTERM (a service manager, ``kill``)
and SIGHUP (the terminal closed) end the app cleanly, stopping pywb; an error
of the app's own (a port already taken, a crash) stops it on the way out;
and should ``serve`` be killed outright, pywb is told by the kernel (see
:class:`~archive.web.pywb.PywbServer`). Browsers reach pywb only through the
sandboxing proxy in front of it, a thread of ``serve``.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from werkzeug.serving import make_server

from archive.cli.output import CommandError
from archive.config import ArchivePaths
from archive.web import create_app
from archive.web.pywb import PywbError, PywbServer, find_wayback

DEFAULT_PORT = 8470
#: The signals that stop ``serve`` cleanly: Ctrl-C, a service manager or ``kill``, the terminal closing.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(Exception):
    """A stop signal arrived; raised in the main thread so that every ``finally`` on the way out runs."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="a local web app to search, read, compare and cite archived pages (pywb replays them)",
        description="Serve the web app until Ctrl-C, SIGTERM or SIGHUP; pywb, its child process, stops with it.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)"
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"the app's port (default {DEFAULT_PORT}; 0: any)"
    )
    parser.add_argument(
        "--pywb-port",
        type=int,
        default=0,
        help="the replay's port, on the same host (default: any free one; pywb itself listens on loopback behind it)",
    )
    parser.add_argument(
        "--pywb", metavar="WAYBACK", help="pywb's `wayback` program (default: .venv-pywb, see `make pywb`)"
    )
    parser.add_argument("--no-replay", action="store_true", help="run without pywb (captures shown as text only)")
    parser.set_defaults(run=_serve)


@contextmanager
def _stop_signals() -> Iterator[None]:
    """While inside, the stop signals raise :class:`Stopped` in the main thread (then the old handlers return).

    SIGINT too, rather than Python's KeyboardInterrupt, which werkzeug's server swallows without a word. A
    signal ignored when ``serve`` started stays ignored: ``nohup`` (SIGHUP), or a shell's background job (SIGINT).
    """

    def stop(signum: int, frame: FrameType | None) -> None:
        for number in previous:  # once: a second signal must not interrupt pywb's stopping
            signal.signal(number, signal.SIG_IGN)
        raise Stopped(signal.Signals(signum).name)

    previous = {
        number: signal.signal(number, stop) for number in STOP_SIGNALS if signal.getsignal(number) is not signal.SIG_IGN
    }
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _serve(args: argparse.Namespace, paths: ArchivePaths) -> int:
    with _stop_signals():
        try:
            _run(args, paths)
        except Stopped as e:
            print(f"newsarchive: stopped ({e})", file=sys.stderr, flush=True)
    return 0


def _run(args: argparse.Namespace, paths: ArchivePaths) -> None:
    """pywb (unless --no-replay), then the app until a signal; pywb is stopped whatever ends the app."""
    pywb = None
    if not args.no_replay:
        try:
            pywb = PywbServer(paths, find_wayback(args.pywb), host=args.host, port=args.pywb_port).start()
        except PywbError as e:
            raise CommandError(f"{e}\n(or start with --no-replay)") from e
    try:
        if pywb:
            print(f"newsarchive: pywb replays from {pywb.url}/ (its own process, pid {pywb.pid})", flush=True)
        try:
            server = make_server(args.host, args.port, create_app(paths, pywb.url if pywb else None), threaded=True)
        except OSError as e:  # (a port in use werkzeug reports itself, exiting 1)
            raise CommandError(f"cannot listen on {args.host}:{args.port}: {e.strerror or e}") from e
        print(f"newsarchive: serving {paths.data_dir} on http://{args.host}:{server.server_port}/", flush=True)
        server.serve_forever()  # closes the server however it ends
    finally:
        if pywb:
            pywb.stop()
