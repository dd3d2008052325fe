"""The external archive tools (pywb, cdxj-indexer, wacz, and the surt package they use), for tests.

They are GPL/AGPL or pull such code in, so they live in their own virtualenv
(``make pywb`` builds ``.venv-pywb`` from ``requirements-pywb.lock``; ``make
test`` does it first) and tests only ever run them as separate processes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TOOLS_VENV = REPO / ".venv-pywb"


def tool(name: str) -> Path:
    """The path of a tool's program, skipping the test (failing it in CI) when it is not installed."""
    path = TOOLS_VENV / "bin" / name
    if not path.exists():
        reason = f"{path} is missing: run `make pywb` to install the pinned archive tools"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path
