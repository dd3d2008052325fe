"""An offline fixture web for crawl tests: three outlets' pages on one story, served
through a loopback HTTP proxy, plus the labelled seed texts they were rebuilt from.

``python -m tests.fixtureweb serve`` runs it by hand; ``FixtureWeb`` runs it in tests.
"""

from __future__ import annotations

import logging

from .data import EXPECTED_PATH, LABELS, SEEDS_DIR, Seed, load_cases, load_seeds
from .server import ROUTES, SITE_DIR, FixtureWeb, Route, ServedRequest

__all__ = [
    "EXPECTED_PATH",
    "LABELS",
    "ROUTES",
    "SEEDS_DIR",
    "SITE_DIR",
    "FixtureWeb",
    "Route",
    "Seed",
    "ServedRequest",
    "load_cases",
    "load_seeds",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
