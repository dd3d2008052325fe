"""Command line: ``serve`` the fixture web, or ``run`` a command with it as http_proxy."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from .server import FixtureWeb


def _build_parser() -> argparse.ArgumentParser:
    """Subcommands ``serve`` and ``run``."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.fixtureweb",
        description="Serve the offline news fixture web as a plain-HTTP proxy.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve in the foreground until interrupted")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    serve.add_argument("--port", type=int, default=0, help="port to bind (default: a free one)")
    serve.add_argument("--slow-seconds", type=float, default=10.0, help="delay of the slow page")
    run = sub.add_parser("run", help="run CMD with http_proxy pointing at the fixture web")
    run.add_argument("--slow-seconds", type=float, default=10.0, help="delay of the slow page")
    run.add_argument("cmd", nargs=argparse.REMAINDER, help="-- CMD ARGS...")
    return parser


def _serve(args: argparse.Namespace) -> int:
    """Run until SIGINT or SIGTERM, printing the proxy URL first so scripts can read it."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with FixtureWeb(slow_seconds=args.slow_seconds, host=args.host, port=args.port) as web:
        print(web.proxy_url, flush=True)
        while not stop.wait(0.5):
            pass
    return 0


def proxy_env(proxy_url: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """A child environment whose plain-HTTP traffic goes through the fixture web."""
    env = dict(os.environ if base is None else base)
    env["http_proxy"] = env["HTTP_PROXY"] = proxy_url
    env.pop("no_proxy", None)
    env.pop("NO_PROXY", None)
    # Scrapy's cookie middleware loads tldextract, which would fetch the Public
    # Suffix List from the internet; an empty list of URLs makes it use its bundled copy.
    env["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
    return env


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run the command under the fixture web and return its exit status."""
    cmd: list[str] = list(args.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        parser.error("run needs a command: run [--slow-seconds S] -- CMD ARGS...")
    with FixtureWeb(slow_seconds=args.slow_seconds) as web:
        print(f"fixture web at {web.proxy_url}", file=sys.stderr, flush=True)
        try:
            code = subprocess.call(cmd, env=proxy_env(web.proxy_url))
        except KeyboardInterrupt:
            code = 130
        except OSError as exc:
            print(f"cannot run {cmd[0]!r}: {exc}", file=sys.stderr)
            code = 127
    return code if code >= 0 else 128 - code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    return _run(args, parser)


if __name__ == "__main__":
    sys.exit(main())
