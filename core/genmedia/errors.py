"""Expected failures and their exit codes.

Every failure a user can cause or meet is a :class:`GenmediaError` subclass carrying the
message, a ``details`` mapping (printed as the error object's ``details``) and an exit code.
The table is documented in docs/exit-codes.md and is a public contract: scripts and agents
branch on these numbers.
"""

from __future__ import annotations

from typing import Any, ClassVar

# Exit codes (docs/exit-codes.md).
EXIT_OK = 0
EXIT_ERROR = 1  # anything not covered below
EXIT_USAGE = 2  # bad command line (click's own code)
EXIT_AUTH = 3  # missing/invalid key, forbidden (401/403)
EXIT_NOT_FOUND = 4  # unknown endpoint, request id, asset (404)
EXIT_VALIDATION = 5  # input rejected locally or by the model (422)
EXIT_RATE_LIMITED = 6  # 429 after retries
EXIT_REMOTE = 7  # the service failed (5xx) or the model job failed
EXIT_TIMEOUT = 8  # --timeout / --start-timeout expired (the job may still run)
EXIT_SAVE = 9  # the run succeeded but an output sink could not save at least one file
EXIT_CONFIG = 10  # unreadable or malformed config file
EXIT_BUDGET = 11  # a price estimate is over --max-cost (nothing more is submitted)
EXIT_HANGUP = 129  # SIGHUP (128 + 1): the terminal went away; handled like Ctrl-C
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
EXIT_TERMINATED = 143  # SIGTERM (128 + 15): stopped by a process manager; like Ctrl-C
#: every exit code genmedia itself returns (docs/exit-codes.md).
DOCUMENTED_EXIT_CODES = frozenset(
    {
        EXIT_OK,
        EXIT_ERROR,
        EXIT_USAGE,
        EXIT_AUTH,
        EXIT_NOT_FOUND,
        EXIT_VALIDATION,
        EXIT_RATE_LIMITED,
        EXIT_REMOTE,
        EXIT_TIMEOUT,
        EXIT_SAVE,
        EXIT_CONFIG,
        EXIT_BUDGET,
        EXIT_HANGUP,
        EXIT_INTERRUPTED,
        EXIT_TERMINATED,
    }
)


class GenmediaError(Exception):
    """Base class of expected failures. ``str(err)`` is the one-line message."""

    exit_code: ClassVar[int] = EXIT_ERROR
    #: upstream's ``error_type`` for this kind of failure, when it has one.
    error_type: ClassVar[str | None] = None

    def __init__(self, message: str, details: Any = None, *, exit_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.details: Any = {} if details is None else details
        if exit_code is not None:
            self.exit_code = exit_code  # type: ignore[misc]

    def add_details(self, **extra: Any) -> GenmediaError:
        """Add keys to ``details`` (if it is a mapping) without overwriting existing ones."""
        if isinstance(self.details, dict):
            for key, value in extra.items():
                if value is not None:
                    self.details.setdefault(key, value)
        return self


class UsageError(GenmediaError):
    exit_code = EXIT_USAGE


class AuthError(GenmediaError):
    exit_code = EXIT_AUTH


class NotFoundError(GenmediaError):
    exit_code = EXIT_NOT_FOUND


class ValidationError(GenmediaError):
    exit_code = EXIT_VALIDATION
    error_type = "ValidationError"


class RateLimitedError(GenmediaError):
    exit_code = EXIT_RATE_LIMITED


class RemoteError(GenmediaError):
    """The service answered with a failure (5xx, a failed job, an unexpected reply)."""

    exit_code = EXIT_REMOTE
    error_type = "ApiError"


class JobFailedError(RemoteError):
    """The model ran and failed (fal: COMPLETED with an error)."""


class TimeoutExpired(GenmediaError):
    exit_code = EXIT_TIMEOUT


class SaveError(GenmediaError):
    exit_code = EXIT_SAVE


class ConfigError(GenmediaError):
    exit_code = EXIT_CONFIG


class BudgetExceeded(GenmediaError):
    """A price estimate is over the budget (``batch --max-cost``): nothing more is paid."""

    exit_code = EXIT_BUDGET


class Interrupted(GenmediaError):
    exit_code = EXIT_INTERRUPTED


class NetworkError(GenmediaError):
    """The service could not be reached (DNS, refused, reset, TLS) after retries."""

    exit_code = EXIT_REMOTE


def for_status(status: int) -> type[GenmediaError]:
    """The error class for an HTTP status code."""
    if status in (401, 403):
        return AuthError
    if status == 404:
        return NotFoundError
    if status in (400, 409, 422):
        return ValidationError if status == 422 else GenmediaError
    if status == 429:
        return RateLimitedError
    if status == 408 or status == 504:
        return RemoteError
    if status >= 500:
        return RemoteError
    return GenmediaError
