"""``newsarchive serve``: the researchers' web app on loopback, with pywb replaying pages beside it."""

from __future__ import annotations

import argparse

from werkzeug.serving import make_server

from archive.cli.output import CommandError
from archive.config import ArchivePaths
from archive.web import create_app
from archive.web.pywb import PywbError, PywbServer, find_wayback

DEFAULT_PORT = 8470


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve", help="a local web app to search, read, compare and cite archived pages (pywb replays them)"
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)"
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"the app's port (default {DEFAULT_PORT}; 0: any)"
    )
    parser.add_argument(
        "--pywb-port", type=int, default=0, help="pywb's port, on the same host (default: any free one)"
    )
    parser.add_argument(
        "--pywb", metavar="WAYBACK", help="pywb's `wayback` program (default: .venv-pywb, see `make pywb`)"
    )
    parser.add_argument("--no-replay", action="store_true", help="run without pywb (captures shown as text only)")
    parser.set_defaults(run=_serve)


def _serve(args: argparse.Namespace, paths: ArchivePaths) -> int:
    pywb = None
    if not args.no_replay:
        try:
            pywb = PywbServer(paths, find_wayback(args.pywb), host=args.host, port=args.pywb_port).start()
        except PywbError as e:
            raise CommandError(f"{e}\n(or start with --no-replay)") from e
    try:
        server = make_server(args.host, args.port, create_app(paths, pywb.url if pywb else None), threaded=True)
        print(f"newsarchive: serving {paths.data_dir} on http://{args.host}:{server.server_port}/", flush=True)
        if pywb:
            print(f"newsarchive: pywb replays from {pywb.url}/ (its own process)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    finally:
        if pywb:
            pywb.stop()
    return 0
