"""A FastAPI route called as a plain Starlette endpoint: for the one hot path.

``POST /v1/classify`` is the call a mail server makes for every message. FastAPI's
own handling of a call (solving its dependencies, validating and serialising the
return value through pydantic, per call) cost more than Starlette's: on a stub model,
in-process, 311 µs of CPU a request against 169 µs for the same route as a Starlette
endpoint (medians of 3 rounds of 3,000 requests from 10 concurrent callers;
docs/experiments.md, "REST API load"). A :class:`DirectRoute` keeps what FastAPI
reads from the declaration (the OpenAPI operation: parameters, request body, response
model, error responses, security scheme) and calls its endpoint as Starlette would:
``await endpoint(request) -> Response``.

So the endpoint does itself what FastAPI would have done for it: its declared
``dependencies`` document the route and are **not run** (it calls the check itself),
and it renders its own response in the shape its ``response_model`` documents (a
test holds the two together). Errors it raises reach the app's handlers as any
route's do (:mod:`spamsift.serving.api.errors`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["DirectRoute"]


class DirectRoute(APIRoute):
    """Documented by FastAPI, run as ``await endpoint(request)``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return self.endpoint  # type: ignore[return-value]
