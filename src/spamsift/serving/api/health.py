"""``/healthz``: the process answers. ``/readyz``: it has a model to score with."""

from __future__ import annotations

from fastapi import APIRouter, Request

from spamsift.serving.api.errors import Unavailable
from spamsift.serving.api.schemas import ErrorBody, Health, Readiness
from spamsift.serving.api.state import get_state

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process is up")
async def healthz() -> Health:
    return Health()


@router.get("/readyz", summary="Readiness: a model is loaded",
            responses={503: {"model": ErrorBody, "description": "No model loaded yet."}})
async def readyz(request: Request) -> Readiness:
    holder = get_state(request).holder
    if not holder.ready:
        raise Unavailable("not ready: no model loaded yet")
    return Readiness(model_version=holder.current.version)
