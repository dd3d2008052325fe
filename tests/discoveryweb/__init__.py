"""Outlets of different real-world shapes for discovery from a home page alone, served on loopback.

``DiscoveryWeb`` serves them through a plain-HTTP proxy (as ``tests.fixtureweb``
does); ``OUTLETS`` says, for each, which URLs are articles and which are not,
and what discovery must find from its home page and robots.txt.
"""

from __future__ import annotations

from .outlets import FixtureOutlet, Response, build
from .server import DiscoveryWeb

__all__ = ["OUTLETS", "DiscoveryWeb", "FixtureOutlet", "Response", "build"]

#: Every discovery outlet, in the order of the module's description.
OUTLETS: tuple[FixtureOutlet, ...] = build().outlets
