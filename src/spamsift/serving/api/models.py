"""``GET /v1/models`` and ``POST /v1/models/{version}/activate`` (admin scope).

Activation loads the version completely, points the registry at it, then swaps it
into the running server (:class:`~spamsift.serving.model_holder.ModelHolder`):
requests in flight finish on the model they started with, none is dropped. Rolling
back is activating an earlier version.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from spamsift.exceptions import ModelError
from spamsift.serving.api.auth import Caller, require
from spamsift.serving.api.errors import Conflict, NotFound, error_responses
from spamsift.serving.api.schemas import ActivateResponse, ModelsResponse, ModelVersion
from spamsift.serving.api.state import get_state

__all__ = ["router"]

router = APIRouter(prefix="/v1/models", tags=["models"])

AdminCaller = Annotated[Caller, Depends(require("admin"))]


@router.get("", summary="List model versions",
            responses=error_responses(401, 403, 429))
async def list_models(request: Request, caller: AdminCaller) -> ModelsResponse:
    """Every version in the registry, which one is active, and which one is serving."""
    holder = get_state(request).holder
    infos = await run_in_threadpool(holder.registry.versions) if holder.registry else []
    active = next((v.version for v in infos if v.is_active), None)
    return ModelsResponse(active=active, serving=holder.current.version,
                          versions=[ModelVersion(**vars(v)) for v in infos])


@router.post("/{version}/activate", summary="Activate a version (roll forward or back)",
             responses=error_responses(401, 403, 404, 409, 429))
async def activate(version: str, request: Request, caller: AdminCaller) -> ActivateResponse:
    """Make ``version`` active and serve it, without dropping a request."""
    holder = get_state(request).holder
    if holder.registry is None:
        raise Conflict("this server serves a fixed model: there are no versions to activate")
    known = [v.version for v in await run_in_threadpool(holder.registry.versions)]
    if version not in known:
        raise NotFound(f"unknown model version {version!r}; known: "
                       f"{', '.join(known[-10:]) or 'none'}")
    previous = holder.current.version
    try:
        loaded = await run_in_threadpool(holder.activate, version)
    except ModelError as exc:
        raise Conflict(f"version {version!r} cannot be activated: {exc}") from exc
    return ActivateResponse(version=loaded.version, previous=previous)
