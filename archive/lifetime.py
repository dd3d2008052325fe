"""Child processes that die with their parent: the archiver process, and pywb beside ``serve``.

A parent killed with SIGKILL (or crashed in C code) runs no ``finally`` and
no signal handler, so only the kernel can end its children then: on Linux,
``prctl(PR_SET_PDEATHSIG)`` asks it to send a signal to a process when its
parent dies. The kernel ties the request to the parent *thread* that
started the child, so start such children from a thread that lives as long
as they should (the main one).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

__all__ = ["parent_death_signal"]

#: prctl(2) option: the signal a process receives when its parent dies.
_PR_SET_PDEATHSIG = 1


def parent_death_signal(sig: signal.Signals, parent: int) -> Callable[[], bool] | None:
    """A function that, run in the child, asks for ``sig`` when ``parent`` dies, and sends it at once if
    ``parent`` is already gone; whether the request was made. None where the kernel offers no such thing.

    The C function is looked up here, so that a child between fork and exec (``preexec_fn``) only calls it.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def arm() -> bool:
        armed = int(prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)) == 0
        if os.getppid() != parent:  # the parent died before the request was made
            os.kill(os.getpid(), sig)
        return armed

    return arm
