"""``GET /v1/models``, ``POST /v1/models/{version}/activate`` and
``GET /v1/models/{version}/report`` (admin scope).

Activation loads the version completely, points the registry at it, then swaps it
into the running server (:class:`~spamsift.serving.model_holder.ModelHolder`):
requests in flight finish on the model they started with, none is dropped. Rolling
back is activating an earlier version. A version made by ``spamsift retrain`` has its
evaluation report in ``DATA_DIR/retrain-reports/VERSION.json``: the listing says
which do, and ``.../report`` returns it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from spamsift.datadir import REPORTS_DIR
from spamsift.exceptions import ModelError
from spamsift.serving.api.auth import Caller, require
from spamsift.serving.api.errors import Conflict, NotFound, error_responses
from spamsift.serving.api.schemas import ActivateResponse, ModelsResponse, ModelVersion
from spamsift.serving.api.state import ApiState, get_state

__all__ = ["router", "REPORTS_DIR"]

# Under DATA_DIR, as spamsift.training.retrain writes them (a test pins the two
# equal; imported from there, the server would import the trainer).

router = APIRouter(prefix="/v1/models", tags=["models"])

AdminCaller = Annotated[Caller, Depends(require("admin"))]


@router.get("", summary="List model versions",
            responses=error_responses(401, 403, 429))
async def list_models(request: Request, caller: AdminCaller) -> ModelsResponse:
    """Every version in the registry, which one is active, and which one is serving."""
    state = get_state(request)
    holder = state.holder
    infos = await run_in_threadpool(holder.registry.versions) if holder.registry else []
    active = next((v.version for v in infos if v.is_active), None)
    return ModelsResponse(active=active, serving=holder.current.version,
                          versions=[ModelVersion(**vars(v),
                                                 report=_report(state, v.version) is not None)
                                    for v in infos])


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


@router.get("/{version}/report", summary="A version's retrain report",
            responses=error_responses(401, 403, 404, 429))
async def report(version: str, request: Request, caller: AdminCaller) -> dict[str, Any]:
    """The evaluation report ``spamsift retrain`` wrote for ``version`` (decision, reason,
    the challenger's and the served model's figures on the held-back slice)."""
    state = get_state(request)
    registry = state.holder.registry
    known = [v.version for v in await run_in_threadpool(registry.versions)] if registry else []
    # Only a listed version names a file: the path parameter never reaches the disk.
    path = _report(state, version) if version in known else None
    if path is None:
        raise NotFound(f"no retrain report for model version {version!r} (only versions "
                       "made by `spamsift retrain` have one)")
    body: dict[str, Any] = json.loads(await run_in_threadpool(path.read_text))
    body.pop("report_path", None)  # a path on the server, nothing a browser needs
    return body


def _report(state: ApiState, version: str) -> Path | None:
    path = Path(state.settings.data_dir) / REPORTS_DIR / f"{version}.json"
    return path if path.is_file() else None
