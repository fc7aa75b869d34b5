"""Failures reported to an operator as one line, with the exit code of the command."""

from __future__ import annotations

EXIT_CONFIG = 2
EXIT_FAILURE = 1


class CliError(Exception):
    """A failure to report as one line, with its exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.code = code
