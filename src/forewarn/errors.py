"""The one user-facing error class, and the exit codes the CLI returns.

Library code raises `ForewarnError` for anything the user can fix (a missing directory, an
unreadable database, damaged markers). The CLI catches it once, prints one line and exits with the
error's code. Any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1  # a user mistake or an environment problem, explained in one line
EXIT_USAGE = 2  # click's own code for bad options
EXIT_REFUSED = 3  # we refused to write rather than guess (e.g. damaged markers)


class ForewarnError(Exception):
    """An error the user can act on. `str(err)` is the one line we print."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class RefusedError(ForewarnError):
    """We would have to guess to go on (damaged markers, ambiguous target): nothing was written."""

    exit_code = EXIT_REFUSED
