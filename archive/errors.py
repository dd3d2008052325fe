"""The base of every error newsarchive raises on purpose.

An error derived from :class:`NewsArchiveError` is one a user can act on
(a bad file, an archive that cannot be opened, a service that is not
there): its message says what and where, and the command line prints it
without a traceback. Anything else escaping is a bug.
"""

from __future__ import annotations

__all__ = ["NewsArchiveError"]


class NewsArchiveError(Exception):
    """A failure with a message meant for the user, not a bug."""

    #: The status ``newsarchive`` exits with when this error ends a command (2, as for a usage error).
    exit_code: int = 2
