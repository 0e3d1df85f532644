"""``POST /v1/feedback`` and ``DELETE /v1/feedback/{event_id}`` (feedback scope).

A message is named by its bytes (``message_b64``) or by the ``classification_id`` a
classify call returned. A new event answers 201; one whose ``client_event_id`` was
seen before (a client retrying) answers 200 with the stored event, and nothing is
written twice. Deleting an event unlearns exactly that event. Without a feedback
store both answer 503.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from spamsift.serving.api.auth import Caller, require
from spamsift.serving.api.body import decode_b64
from spamsift.serving.api.errors import Unavailable, error_responses
from spamsift.serving.api.schemas import FeedbackRequest, FeedbackResponse, RetractResponse
from spamsift.serving.api.state import FeedbackStore, get_state

__all__ = ["router"]

router = APIRouter(prefix="/v1/feedback", tags=["feedback"])

FeedbackCaller = Annotated[Caller, Depends(require("feedback"))]


@router.post("", status_code=201, summary="Report a message as ham or spam",
             responses={200: {"model": FeedbackResponse,
                              "description": "A replay: the client_event_id was seen."},
                        **error_responses(400, 401, 403, 404, 409, 413, 422, 429, 503)})
async def add_feedback(body: FeedbackRequest, request: Request, response: Response,
                       caller: FeedbackCaller) -> FeedbackResponse:
    """Record a label for a message; 201 for a new event, 200 for a replayed one."""
    state = get_state(request)
    store = _store(state.feedback)
    raw = None if body.message_b64 is None else decode_b64(body.message_b64, "message_b64")
    if body.classification_id is not None:
        await state.history_written()  # an id answered a moment ago is found
    add = partial(store.add_feedback, raw, label=body.label,
                  classification_id=body.classification_id, user=body.user, source="api",
                  key_id=caller.key_id, client_event_id=body.client_event_id)
    event = await run_in_threadpool(add)
    replayed = bool(getattr(event, "replayed", False))
    outcome = ("replayed" if replayed else "conflict" if event.conflict
               else "duplicate" if event.duplicate else "recorded")
    state.metrics.feedback.labels(body.label, outcome).inc()
    if replayed:
        response.status_code = 200
    return FeedbackResponse(
        event_id=str(event.event_id),
        message_id=None if event.message_id is None else str(event.message_id),
        label=event.label, duplicate=event.duplicate, conflict=event.conflict,
        effective_label=event.effective_label, replayed=replayed)


@router.delete("/{event_id}", summary="Retract a feedback event (exact unlearn)",
               responses=error_responses(401, 403, 404, 429, 503))
async def retract_feedback(event_id: str, request: Request,
                           caller: FeedbackCaller) -> RetractResponse:
    """Withdraw one event; ``retracted`` is false if it already was."""
    state = get_state(request)
    store = _store(state.feedback)
    result = await run_in_threadpool(partial(store.retract, event_id, by=caller.key_id))
    retracted = not result.already_retracted
    state.metrics.retractions.labels(str(retracted).lower()).inc()
    return RetractResponse(event_id=event_id, retracted=retracted,
                           effective_label=result.effective_label)


def _store(store: FeedbackStore | None) -> FeedbackStore:
    if store is None:
        raise Unavailable("no feedback store is configured on this server")
    return store
