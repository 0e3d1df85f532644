"""``POST /v1/feedback/learn`` and ``POST /v1/feedback/forget`` (feedback scope).

A user's vote, as mail clients give it: "this user moved it to Junk", "...out of
Junk", "forget what this user said". The same per-user rule as spamd's ``TELL`` and
``spamsift learn --data-dir`` (:func:`spamsift.serving.mailclients.tell`): learning what
is already the user's vote records nothing (``changed`` 0), and forgetting withdraws
that user's votes only, so ``spamsift learn --api`` needs no event ids. Without a
feedback store both answer 503.
"""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from spamsift.serving.api.body import decode_b64
from spamsift.serving.api.errors import error_responses
from spamsift.serving.api.feedback import FeedbackCaller, _store
from spamsift.serving.api.schemas import ForgetRequest, LearnRequest, VoteResponse
from spamsift.serving.api.state import get_state
from spamsift.serving.mailclients import Told, tell

__all__ = ["router"]

router = APIRouter(prefix="/v1/feedback", tags=["feedback"])

_ERRORS = error_responses(400, 401, 403, 413, 422, 429, 503)


@router.post("/learn", summary="Learn a message as one user's spam or ham, once",
             responses=_ERRORS)
async def learn_vote(body: LearnRequest, request: Request,
                     caller: FeedbackCaller) -> VoteResponse:
    """Record ``user``'s label unless it is their vote already (``changed`` 0)."""
    return await _tell(request, body.message_b64, body.label, body.user)


@router.post("/forget", summary="Withdraw one user's votes on a message",
             responses=_ERRORS)
async def forget_vote(body: ForgetRequest, request: Request,
                      caller: FeedbackCaller) -> VoteResponse:
    """The message's label becomes what it would be had this user never spoken."""
    return await _tell(request, body.message_b64, "forget", body.user)


async def _tell(request: Request, message_b64: str, action: str, user: str) -> VoteResponse:
    state = get_state(request)
    store = _store(state.feedback)
    raw = decode_b64(message_b64, "message_b64")
    told: Told = await run_in_threadpool(partial(tell, store, raw, action, user=user,
                                                 source="api"))
    # Counted with the other feedback; a vote that changed nothing is no event.
    if action == "forget" and told.changed:
        state.metrics.retractions.labels("true").inc(told.changed)
    elif action != "forget" and told.changed:
        state.metrics.feedback.labels(action, "recorded").inc()
    return VoteResponse(message_id=told.message_id, changed=told.changed)
