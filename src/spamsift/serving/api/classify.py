"""``POST /v1/classify`` and ``POST /v1/classify/batch``.

The single form takes the raw message as the body (``message/rfc822``,
``application/octet-stream``, ``text/plain``; any type but JSON is read as the raw
message, so ``curl --data-binary @mail.eml`` works), or JSON ``{"message_b64": ...}``.
Scoring is CPU-bound and runs in the thread pool, so the event loop keeps answering
health checks while messages are scored. Single messages that arrive while others
are being scored are scored together in one model call
(:mod:`spamsift.serving.api.batching`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from spamsift.exceptions import SpamsiftError
from spamsift.models.spam_model import Verdict
from spamsift.serving.api.auth import Caller, require
from spamsift.serving.api.batching import Item
from spamsift.serving.api.body import decode_b64, require_message
from spamsift.serving.api.errors import BodyTooLarge, error_responses
from spamsift.serving.api.schemas import (
    BatchRequest,
    BatchResponse,
    BatchResult,
    ClassifyRequest,
    ClassifyResponse,
    Cutoffs,
)
from spamsift.serving.api.state import ApiState, get_state
from spamsift.serving.model_holder import LoadedModel

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["classify"])

_RAW = {"schema": {"type": "string", "format": "binary"}}
_CLASSIFY_BODY = {"requestBody": {"required": True, "content": {
    "message/rfc822": _RAW,
    "application/octet-stream": _RAW,
    "text/plain": _RAW,
    "application/json": {"schema": ClassifyRequest.model_json_schema()},
}}}

ClassifyCaller = Annotated[Caller, Depends(require("classify"))]


@router.post("/classify", summary="Classify one message", openapi_extra=_CLASSIFY_BODY,
             responses=error_responses(400, 401, 403, 413, 422, 429))
async def classify(request: Request, caller: ClassifyCaller) -> ClassifyResponse:
    """Score one message: verdict, score, cut-offs, model version and top clues."""
    state = get_state(request)
    body = await request.body()
    if _is_json(request.headers.get("content-type", "")):
        try:
            form = ClassifyRequest.model_validate_json(body)
        except ValidationError as exc:
            raise RequestValidationError(
                [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
            ) from exc
        raw = decode_b64(form.message_b64, "message_b64")
    else:
        raw = require_message(body)
    loaded = state.holder.current  # this request's model, whatever swaps meanwhile
    verdict, cid = await state.batcher.score(loaded, raw)
    return ClassifyResponse(**ClassifyResponse.fields_of(verdict, cid),
                            cutoffs=_cutoffs(loaded), model_version=loaded.version)


@router.post("/classify/batch", summary="Classify many messages",
             responses=error_responses(400, 401, 403, 413, 422, 429))
async def classify_batch(request: Request, batch: BatchRequest,
                         caller: ClassifyCaller) -> BatchResponse:
    """Score several messages in one call; results come back in request order."""
    state = get_state(request)
    limit = state.settings.max_batch_messages
    if len(batch.messages) > limit:
        raise BodyTooLarge(f"messages: expected at most {limit} per batch, "
                           f"got {len(batch.messages)}")
    raws = [decode_b64(m.message_b64, f"messages[{i}].message_b64")
            for i, m in enumerate(batch.messages)]
    loaded = state.holder.current
    items = await asyncio.gather(*(state.prepare(r, loaded) for r in raws))
    scored = await run_in_threadpool(_classify, state, loaded, raws, list(items))
    results = [BatchResult(**BatchResult.fields_of(v, cid), id=m.id)
               for m, (v, cid) in zip(batch.messages, scored, strict=True)]
    return BatchResponse(model_version=loaded.version, cutoffs=_cutoffs(loaded),
                         results=results)


def _classify(state: ApiState, loaded: LoadedModel, raws: list[bytes], items: list[Item]
              ) -> list[tuple[Verdict, str | None]]:
    verdicts = loaded.model.classify(items, top=state.settings.top_clues)
    out = []
    for raw, v in zip(raws, verdicts, strict=True):
        state.metrics.observe_verdict(v.verdict, v.score)
        out.append((v, _record(state, raw, v, loaded.version)))
    return out


def score_each(state: ApiState, loaded: LoadedModel, raws: list[bytes], items: list[Item]
               ) -> list[tuple[Verdict, str | None] | Exception]:
    """The scorer of :class:`~spamsift.serving.api.batching.ScoreBatcher`: one model call
    for all of ``items`` (each raw message or its parse), then each verdict counted and
    recorded; a message whose recording fails yields its exception alone. (Should the
    model call fail, the batcher scores the messages one by one.)
    """
    verdicts = loaded.model.classify(items, top=state.settings.top_clues)
    out: list[tuple[Verdict, str | None] | Exception] = []
    for raw, v in zip(raws, verdicts, strict=True):
        try:
            state.metrics.observe_verdict(v.verdict, v.score)
            out.append((v, _record(state, raw, v, loaded.version)))
        except Exception as exc:
            out.append(exc)
    return out


def _record(state: ApiState, raw: bytes, v: Verdict, version: str) -> str | None:
    # The verdict matters more than its id: a store that refuses the message (over
    # its size cap) or is down costs the caller the id, not the answer.
    if state.feedback is None:
        return None
    try:
        return str(state.feedback.record_classification(raw, v.score, v.verdict, version,
                                                        clues=v.clues, flags=v.flags))
    except SpamsiftError as exc:
        log.warning("classification not recorded: %s", exc)
        return None


def _cutoffs(loaded: LoadedModel) -> Cutoffs:
    return Cutoffs(spam=loaded.model.spam_cutoff, unsure=loaded.model.unsure_cutoff)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")
