"""Exceptions raised by the Symbiont client."""

from __future__ import annotations

from typing import Optional


class SymbiontError(Exception):
    """Root of every error the client raises."""


class SymbiontNetworkError(SymbiontError):
    """The server could not be reached or did not answer in time."""


class SymbiontApiError(SymbiontError):
    """The server answered with an error body ``{"error": {"code", "message", "field"?}}``.

    Attributes:
        status: the HTTP status code.
        code: a stable code such as ``JOB_NOT_FOUND``, ``VALIDATION`` or ``INVALID_STATE``.
        message: the server's explanation.
        field: for validation errors, the offending field (snake_case); otherwise ``None``.
    """

    def __init__(self, status: int, code: str, message: str, field: Optional[str] = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, message={self.message!r}, field={self.field!r})"


class NotFoundError(SymbiontApiError):
    """404: no such job, run or route."""


class UnauthorizedError(SymbiontApiError):
    """401 or 403: the API key is missing, wrong, or may not do this."""


class ValidationFailedError(SymbiontApiError):
    """400 or 422: the request was malformed or a field is invalid (``field`` names it)."""


class ConflictError(SymbiontApiError):
    """409: a name is taken, or the job or run is not in a state that allows this."""


def api_error_for(status: int, code: str, message: str, field: Optional[str] = None) -> SymbiontApiError:
    """The exception class matching an HTTP error status."""
    if status == 404:
        cls = NotFoundError
    elif status in (401, 403):
        cls = UnauthorizedError
    elif status in (400, 422):
        cls = ValidationFailedError
    elif status == 409:
        cls = ConflictError
    else:
        cls = SymbiontApiError
    return cls(status, code, message, field)
