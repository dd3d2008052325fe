"""``newsarchive serve``: find, read, compare and cite archived pages in a browser.

A small Flask app, server-rendered (Jinja2 templates, one stylesheet, no
script of its own), beside a pywb process that replays the archived pages
(:mod:`archive.web.pywb`).
"""

from archive.web.app import create_app

__all__ = ["create_app"]
