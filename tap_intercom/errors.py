"""Errors the tap reports to its user as one clear line."""

from __future__ import annotations


class IntercomError(Exception):
    """A failure the user must act on; the CLI prints its message alone and exits non-zero."""


class ConfigError(IntercomError):
    """The settings or the state given to the tap are unusable."""


class AuthError(IntercomError):
    """401: the access token is invalid or revoked."""


class ForbiddenError(IntercomError):
    """403: the token lacks a permission; the stream that needs it is skipped."""


class NotFoundError(IntercomError):
    """404 on a record fetched by id (e.g. a conversation deleted since it was listed)."""


class RequestError(IntercomError):
    """Another 4xx answer; `codes` are Intercom's error codes (e.g. scroll_exists)."""

    def __init__(self, message: str, status: int, codes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.codes = codes


class ServerError(IntercomError):
    """A 5xx answer, raised instead of retried when the caller must recover itself."""


class TransientError(IntercomError):
    """A request kept failing after every retry."""


class UnexpectedAnswerError(IntercomError):
    """A 200 whose body is not what the endpoint answers (a list answer without its list)."""


class PageFailedError(TransientError):
    """A page failed (5xx, timeout, broken answer) as many times as its caller allowed."""
