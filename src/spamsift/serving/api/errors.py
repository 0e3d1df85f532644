"""Errors of the REST API, and the one mapping from exceptions to HTTP status.

The HTTP layer adds its own branch to spamsift's exception tree::

    SpamsiftError
     ├── InputError                        400 bad_input
     │    ├── MessageError                 400 not_a_message
     │    └── BodyTooLarge                 413 too_large
     ├── ModelError                        503 model_unavailable
     ├── ConfigError                       500 config
     ├── StoreError (spamsift.feedback)    503 store_unavailable
     │    ├── NotFoundError                404 not_found
     │    └── IdempotencyError             409 conflict
     └── ApiError
          ├── NotAuthenticated             401 unauthenticated (WWW-Authenticate: Bearer)
          ├── Forbidden                    403 forbidden
          ├── NotFound                     404 not_found
          ├── Conflict                     409 conflict
          ├── RateLimited                  429 rate_limited (Retry-After)
          └── Unavailable                  503 unavailable

FastAPI's ``RequestValidationError`` (bad JSON, a missing field) is 422
``invalid_request``; Starlette's ``HTTPException`` (no such route, wrong method) keeps
its status. Anything else is a bug: 500 ``internal``, without details.

Every error body has the same shape::

    {"error": "too_large", "message": "request body over 16777216 bytes", "details": [...]}

``details`` only for 422, listing each field's problem.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from spamsift.exceptions import (
    ConfigError,
    IdempotencyError,
    InputError,
    MessageError,
    ModelError,
    NotFoundError,
    SpamsiftError,
    StoreError,
)
from spamsift.serving.api.schemas import ErrorBody

__all__ = [
    "ApiError",
    "BodyTooLarge",
    "NotAuthenticated",
    "Forbidden",
    "NotFound",
    "Conflict",
    "RateLimited",
    "Unavailable",
    "status_for",
    "error_response",
    "install_error_handlers",
    "error_responses",
]

log = logging.getLogger(__name__)


class ApiError(SpamsiftError):
    """An error of the HTTP layer itself; ``headers`` go out with the response."""

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.headers = headers or {}


class BodyTooLarge(InputError):
    """A request body over ``max_request_bytes``, or a batch over its count."""


class NotAuthenticated(ApiError):
    """No API key where one is needed, or one that is not known."""

    def __init__(self, message: str) -> None:
        super().__init__(message, {"WWW-Authenticate": "Bearer"})


class Forbidden(ApiError):
    """A known API key without the scope the call needs."""


class NotFound(ApiError):
    """The thing named in the path does not exist."""


class Conflict(ApiError):
    """The request is understood but cannot be done in the current state."""


class RateLimited(ApiError):
    """Over the rate limit; ``retry_after`` seconds until a request is allowed."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, {"Retry-After": str(max(1, math.ceil(retry_after)))})
        self.retry_after = retry_after


class Unavailable(ApiError):
    """The server lacks what the call needs (no feedback store, no model yet)."""


# Looked up along the exception's MRO: the most specific class listed wins.
_STATUS: dict[type[BaseException], tuple[int, str]] = {
    BodyTooLarge: (413, "too_large"),
    MessageError: (400, "not_a_message"),
    InputError: (400, "bad_input"),
    NotAuthenticated: (401, "unauthenticated"),
    Forbidden: (403, "forbidden"),
    NotFound: (404, "not_found"),
    Conflict: (409, "conflict"),
    RateLimited: (429, "rate_limited"),
    Unavailable: (503, "unavailable"),
    ModelError: (503, "model_unavailable"),
    ConfigError: (500, "config"),
    NotFoundError: (404, "not_found"),
    IdempotencyError: (409, "conflict"),
    StoreError: (503, "store_unavailable"),
    RequestValidationError: (422, "invalid_request"),
    SpamsiftError: (500, "internal"),
}

_HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden",
               404: "not_found", 405: "method_not_allowed", 413: "too_large",
               415: "unsupported_media_type", 422: "invalid_request",
               429: "rate_limited"}


def status_for(exc: BaseException) -> tuple[int, str]:
    """HTTP status and error code for ``exc``: ``(500, "internal")`` if unknown."""
    if isinstance(exc, StarletteHTTPException):
        return exc.status_code, _HTTP_CODES.get(exc.status_code, "http_error")
    for cls in type(exc).__mro__:
        if cls in _STATUS:
            return _STATUS[cls]
    return 500, "internal"


def error_response(exc: BaseException) -> JSONResponse:
    """The JSON error response for ``exc``."""
    status, code = status_for(exc)
    body: dict[str, Any] = {"error": code}
    headers: dict[str, str] = {}
    if isinstance(exc, RequestValidationError):
        details = [_detail(e) for e in exc.errors()]
        body["message"] = "; ".join(f"{d['loc']}: {d['msg']}" for d in details[:5])
        body["details"] = details
    elif isinstance(exc, StarletteHTTPException):
        body["message"] = str(exc.detail)
        headers = dict(exc.headers or {})
    elif status == 500 and not isinstance(exc, ConfigError):
        body["message"] = "internal error; the server log has the details"
    else:
        body["message"] = str(exc)
        headers = dict(getattr(exc, "headers", {}))
    return JSONResponse(body, status_code=status, headers=headers)


_MEANING = {
    400: "Not a message: an empty body, or base64 that does not decode.",
    401: "No API key where one is needed, or an unknown one.",
    403: "The API key lacks the scope this call needs.",
    404: "No such thing.",
    409: "Cannot be done in the current state.",
    413: "The body is over `max_request_bytes`, or the batch over its count.",
    422: "Bad JSON: invalid syntax, a missing or extra field.",
    429: "Over the rate limit; see Retry-After.",
    503: "The server lacks what this call needs.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses a route may answer."""
    return {s: {"model": ErrorBody, "description": _MEANING[s]} for s in statuses}


def _detail(err: Any) -> dict[str, str]:
    # Only the location, message and type: the input itself may be megabytes of mail.
    loc = ".".join(str(p) for p in err.get("loc", ()))
    return {"loc": loc, "msg": str(err.get("msg", "")), "type": str(err.get("type", ""))}


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    if status_for(exc)[0] >= 500:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return error_response(exc)


def install_error_handlers(app: FastAPI) -> None:
    """Render every error, expected or not, as the JSON above."""
    for cls in (SpamsiftError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(cls, _handle)
