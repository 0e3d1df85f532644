"""What the filter did, for people to look at (read scope): the dashboard's API.

``GET /v1/classifications``: recent classifications, newest first, filtered and
paged (:mod:`spamsift.feedback.history`). ``GET /v1/classifications/{id}``: one of
them with its clues, flags, the message's parts and every vote on it.
``GET /v1/conflicts``: messages whose voters disagree, with each live vote, to be
settled by withdrawing votes (``DELETE /v1/feedback/{event_id}``, feedback scope).
``GET /v1/me``: the calling key's name and scopes, so a page shows what it may do.

Without a feedback store there is no history: these answer 503, ``/v1/me`` excepted.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from spamsift.feedback.labels import resolve, voter_of
from spamsift.serving.api.auth import Caller, require
from spamsift.serving.api.errors import NotFound, Unavailable, error_responses
from spamsift.serving.api.schemas import (
    Attachment,
    ClassificationDetail,
    Clue,
    ConflictItem,
    ConflictsResponse,
    HistoryItem,
    HistoryPage,
    Me,
    MessageParts,
    Vote,
)
from spamsift.serving.api.state import ApiState, get_state

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["dashboard"])

ReadCaller = Annotated[Caller, Depends(require("read"))]

# Far more events than a message gets; the store's own cap.
_EVENTS_PER_MESSAGE = 10_000
_AUTH_HEADERS = ("authentication-results", "arc-authentication-results", "received-spf")


@router.get("/me", summary="The calling key: name and scopes",
            responses=error_responses(401, 403, 429))
async def me(caller: ReadCaller) -> Me:
    """Who the key is; the dashboard logs in with this call."""
    key = caller.key
    assert key is not None  # the read scope always needs a key
    scopes = set(key.scopes)
    if "admin" in scopes:
        scopes |= {"classify", "read", "feedback"}
    return Me(id=key.id, name=key.name, scopes=sorted(scopes))


@router.get("/classifications", summary="Recent classifications, newest first",
            responses=error_responses(400, 401, 403, 404, 429, 503))
async def list_classifications(
    request: Request, caller: ReadCaller,
    limit: Annotated[int, Query(ge=1, le=500, description="Rows per page.")] = 50,
    before: Annotated[str | None, Query(max_length=64, description=(
        "A page's `next_before`: rows older than that classification."))] = None,
    verdict: Annotated[Literal["ham", "unsure", "spam"] | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=200, description=(
        "Text in the subject or sender, any case."))] = None,
    sender: Annotated[str | None, Query(max_length=320, description=(
        "Part of the sender's address, any case."))] = None,
) -> HistoryPage:
    """The history the service keeps (``history_days``), a page at a time."""
    state = get_state(request)
    store = _store(state)
    await state.history_written()
    rows = await run_in_threadpool(lambda: store.classifications(
        limit, before, verdict=verdict, sender=sender or None, text=q or None))
    items = [_item(r) for r in rows]
    return HistoryPage(items=items,
                       next_before=items[-1].id if len(items) == limit else None)


@router.get("/classifications/{classification_id}", summary="One classification in full",
            responses=error_responses(401, 403, 404, 429, 503))
async def get_classification(classification_id: str, request: Request,
                             caller: ReadCaller) -> ClassificationDetail:
    """The verdict with its clues and flags, the message's parts, and its votes."""
    state = get_state(request)
    store = _store(state)
    await state.history_written()
    found = await run_in_threadpool(store.get_classification, classification_id)
    if found is None:
        raise NotFound(f"no classification with id {classification_id!r} (purged after "
                       f"{state.settings.history_days:g} days, or never made)")
    events = await run_in_threadpool(
        lambda: store.events(limit=_EVENTS_PER_MESSAGE, message_id=found.message_id))
    events.reverse()  # oldest first, as the votes are resolved
    live = resolve((voter_of(e.user, e.key_id), e.label) for e in events
                   if e.retracted_at is None)
    raw = await run_in_threadpool(store.raw_message, found.message_id)
    return ClassificationDetail(
        **_item(found).model_dump(),
        clues=None if found.clues is None else [Clue(clue=c, weight=w)
                                                for c, w in found.clues],
        flags=None if found.flags is None else list(found.flags),
        label=live.label, conflict=live.conflict,
        votes=[_vote(e, caller) for e in events],
        message=None if raw is None else await _parts(state, raw))


@router.get("/conflicts", summary="Messages whose voters disagree",
            responses=error_responses(401, 403, 429, 503))
async def conflicts(request: Request, caller: ReadCaller) -> ConflictsResponse:
    """Each conflicted message with its live votes; withdraw votes to settle one."""
    store = _store(get_state(request))

    def read() -> list[ConflictItem]:
        out = []
        for c in store.conflicts()[:200]:
            events = store.events(limit=_EVENTS_PER_MESSAGE, message_id=c.message_id)
            latest: dict[str, Any] = {}
            for e in reversed(events):  # oldest first: each voter's latest wins
                if e.retracted_at is None:
                    latest.pop(voter_of(e.user, e.key_id), None)
                    latest[voter_of(e.user, e.key_id)] = e
            cls = store.latest_classification(c.message_id)
            out.append(ConflictItem(message_id=c.message_id, subject=c.subject,
                                    updated_at=c.updated_at,
                                    classification_id=cls.id if cls else None,
                                    votes=[_vote(e, caller) for e in latest.values()]))
        return out

    return ConflictsResponse(conflicts=await run_in_threadpool(read))


def _store(state: ApiState) -> Any:
    if state.feedback is None:
        raise Unavailable("no feedback store is configured on this server: there is no "
                          "history")
    return state.feedback


def _item(c: Any) -> HistoryItem:
    return HistoryItem(id=c.id, created_at=c.created_at, sender=c.sender, subject=c.subject,
                       verdict=c.verdict, score=c.score, model_version=c.model_version,
                       message_id=c.message_id)


def _vote(e: Any, caller: Caller) -> Vote:
    return Vote(event_id=e.id, label=e.label, voter=voter_of(e.user, e.key_id),
                source=e.source, created_at=e.created_at, retracted_at=e.retracted_at,
                by_you=e.user is None and e.key_id is not None and e.key_id == caller.key_id)


async def _parts(state: ApiState, raw: bytes) -> MessageParts:
    # Parsed as for scoring: a large message in the sandbox, under its deadline.
    loaded = state.holder.current
    item = await state.sandbox.prepare(raw, loaded.model.featurizer.limits)
    msg = (await run_in_threadpool(loaded.model.parse, [item]))[0]
    hosts: list[str] = []
    for url in msg.urls:
        host = url.split("://", 1)[-1].split("/", 1)[0].split("@")[-1].lower()
        if host and host not in hosts:
            hosts.append(host)
        if len(hosts) == 20:
            break
    auth = [f"{name}: {value}"[:500] for name, value in msg.headers
            if name.lower() in _AUTH_HEADERS][:10]
    return MessageParts(size=msg.size, content_types=msg.content_types[:50],
                        attachments=[Attachment(filename=a.filename,
                                                content_type=a.content_type, size=a.size)
                                     for a in msg.attachments[:50]],
                        url_hosts=hosts, authentication=auth)


