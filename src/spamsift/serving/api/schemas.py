"""Request and response bodies of the REST API (pydantic; they are the OpenAPI schemas)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from spamsift.models.spam_model import Verdict

__all__ = [
    "ClassifyRequest", "BatchMessage", "BatchRequest", "Clue", "Cutoffs", "Classification",
    "ClassifyResponse", "BatchResult", "BatchResponse", "FeedbackRequest", "FeedbackResponse",
    "RetractResponse", "LearnRequest", "ForgetRequest", "VoteResponse",
    "ModelVersion", "ModelsResponse", "ActivateResponse", "Health",
    "Readiness", "ErrorBody", "HistoryItem", "HistoryPage", "Vote", "MessageParts",
    "ClassificationDetail", "ConflictItem", "ConflictsResponse", "Me", "StatsMinute",
    "StatsResponse", "StoreCounts",
]

VerdictName = Literal["ham", "unsure", "spam"]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClassifyRequest(_Request):
    """The JSON form of ``POST /v1/classify``: the raw message, base64-encoded."""

    message_b64: str = Field(description="The whole RFC 822 message, standard base64.")


class BatchMessage(_Request):
    id: str | None = Field(None, max_length=256,
                           description="Echoed in the result, to match answers to messages.")
    message_b64: str = Field(description="The whole RFC 822 message, standard base64.")


class BatchRequest(_Request):
    messages: list[BatchMessage] = Field(min_length=1, description=(
        "Messages to classify, at most `max_batch_messages` (a setting) per call."))


class Clue(BaseModel):
    clue: str = Field(description="A token or feature, e.g. `subj:free`.")
    weight: float = Field(description="Its contribution to the score, in log-odds.")


class Cutoffs(BaseModel):
    spam: float = Field(description="Scores at or above are spam.")
    unsure: float = Field(description="Scores at or above (and below spam) are unsure.")


class Classification(BaseModel):
    verdict: VerdictName
    score: float = Field(description="Spam probability in [0, 1].")
    logit: float = Field(description="The score in log-odds: the sum of all clues.")
    clues: list[Clue] = Field(description="The strongest clues, strongest first.")
    flags: list[str] = Field(description="What parsing had to cut or repair.")
    classification_id: str | None = Field(None, description=(
        "Names this classification in later feedback; null without a feedback store "
        "(or when the store could not record it)."))

    @classmethod
    def fields_of(cls, v: Verdict, classification_id: str | None) -> dict[str, Any]:
        """The fields of a verdict, plain values (also what ``POST /v1/classify``
        renders without building the model: :mod:`spamsift.serving.api.direct`)."""
        return {"verdict": v.verdict, "score": v.score, "logit": v.logit,
                "clues": [{"clue": c, "weight": round(w, 4)} for c, w in v.clues],
                "flags": v.flags, "classification_id": classification_id}


class ClassifyResponse(Classification):
    cutoffs: Cutoffs
    model_version: str


class BatchResult(Classification):
    id: str | None


class BatchResponse(BaseModel):
    model_version: str
    cutoffs: Cutoffs
    results: list[BatchResult] = Field(description="One per message, in request order.")


class FeedbackRequest(_Request):
    """A correction or confirmation: name the message by its bytes or a classification."""

    message_b64: str | None = Field(None, description="The message, standard base64.")
    classification_id: str | None = Field(None, min_length=1, max_length=128, description=(
        "The `classification_id` a classify call returned."))
    label: Literal["ham", "spam"]
    user: str | None = Field(None, min_length=1, max_length=320, description=(
        "Whose mailbox it is (an address, say): each user's latest word counts."))
    client_event_id: str | None = Field(None, min_length=1, max_length=128, description=(
        "Your id for this event: sending it again replays the stored event."))

    @model_validator(mode="after")
    def _names_a_message(self) -> FeedbackRequest:
        if self.message_b64 is None and self.classification_id is None:
            raise ValueError("expected message_b64 or classification_id, got neither")
        return self


class FeedbackResponse(BaseModel):
    event_id: str
    message_id: str | None
    label: str
    duplicate: bool = Field(description="The message had this label already.")
    conflict: bool = Field(description="Other feedback gave this message the other label.")
    effective_label: str | None = Field(description=(
        "The label training will use now; null while in conflict."))
    replayed: bool = Field(False, description=(
        "The client_event_id was seen before: this is the stored event, nothing new."))


class RetractResponse(BaseModel):
    event_id: str
    retracted: bool = Field(description="False if it was already retracted.")
    effective_label: str | None = Field(None, description=(
        "The message's label after the retraction, where the store tells it."))


class ForgetRequest(_Request):
    """One user's word on a message, as a mail client gives it (spamd's ``TELL``)."""

    message_b64: str = Field(description="The message, standard base64.")
    user: str = Field(min_length=1, max_length=320, description=(
        "Whose vote it is (the IMAP user, say): each user's vote counts once."))


class LearnRequest(ForgetRequest):
    label: Literal["ham", "spam"]


class VoteResponse(BaseModel):
    message_id: str
    changed: int = Field(description=(
        "learn: 1 if recorded, 0 if that was the user's vote already; "
        "forget: how many of the user's votes were withdrawn."))


class ModelVersion(BaseModel):
    version: str
    created: str | None
    is_active: bool = Field(description="The registry's active version.")
    metrics: dict[str, Any]
    problem: str | None = Field(description="Why the manifest cannot be read, if so.")
    report: bool = Field(False, description=(
        "`spamsift retrain` left an evaluation report: GET /v1/models/{version}/report."))


class ModelsResponse(BaseModel):
    active: str | None = Field(description="The registry's active version.")
    serving: str = Field(description="The version this server is scoring with.")
    versions: list[ModelVersion]


class ActivateResponse(BaseModel):
    version: str
    previous: str


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    model_version: str


class ErrorBody(BaseModel):
    """Every error response."""

    error: str = Field(description="A stable code: `too_large`, `unauthenticated`, ...")
    message: str = Field(description="What was expected and what arrived.")
    details: list[dict[str, str]] | None = Field(None, description="422 only: each problem.")


class HistoryItem(BaseModel):
    """One classification the service recorded (``GET /v1/classifications``)."""

    id: str = Field(description="The classification id (feedback can name it).")
    created_at: datetime
    sender: str | None = Field(description="The From address; null on rows older than "
                               "the dashboard, '' when the message had none.")
    subject: str | None
    verdict: VerdictName
    score: float
    model_version: str
    message_id: str = Field(description="SHA-256 of the message's bytes.")


class HistoryPage(BaseModel):
    items: list[HistoryItem] = Field(description="Newest first.")
    next_before: str | None = Field(description=(
        "Pass as `before` for the next (older) page; null on the last page."))


class Vote(BaseModel):
    """One feedback event on a message, as the audit trail keeps it."""

    event_id: str
    label: Literal["ham", "spam"]
    voter: str = Field(description="`user:NAME`, `key:ID` or `anonymous`: whose vote it is.")
    source: str = Field(description="Through what it came: api, cli, imap, spamd, ...")
    created_at: datetime
    retracted_at: datetime | None
    by_you: bool = Field(description="Given by the calling key, with no user named: "
                         "what the dashboard's Forget withdraws.")


class Attachment(BaseModel):
    filename: str
    content_type: str
    size: int


class MessageParts(BaseModel):
    """What parsing the stored message extracts (no body text)."""

    size: int
    content_types: list[str] = Field(description="Every MIME part's type, in walk order.")
    attachments: list[Attachment]
    url_hosts: list[str] = Field(description="Hosts of the links in the message, "
                                 "first 20 distinct.")
    authentication: list[str] = Field(description=(
        "Authentication-Results and Received-SPF headers, as the receiving servers wrote "
        "them (spamsift does not check them)."))


class ClassificationDetail(HistoryItem):
    clues: list[Clue] | None = Field(description="The verdict's strongest clues; null on "
                                     "rows older than the dashboard.")
    flags: list[str] | None
    label: str | None = Field(description="The message's effective label from feedback.")
    conflict: bool = Field(description="Voters disagree about this message.")
    votes: list[Vote] = Field(description="Every feedback event on the message, oldest "
                              "first, retracted ones included.")
    message: MessageParts | None = Field(description="Null when the message is no "
                                         "longer stored.")


class ConflictItem(BaseModel):
    message_id: str
    subject: str
    updated_at: datetime
    classification_id: str | None = Field(description="Its latest classification, to "
                                          "open it in the dashboard; null if none is kept.")
    votes: list[Vote] = Field(description="The live votes, each voter's latest.")


class ConflictsResponse(BaseModel):
    conflicts: list[ConflictItem] = Field(description="Most recently changed first.")


class Me(BaseModel):
    """The calling key: who it is and what it may do."""

    id: str
    name: str
    scopes: list[str] = Field(description="Effective scopes (`admin` expanded).")


class StatsMinute(BaseModel):
    start: datetime = Field(description="The minute's start (UTC).")
    ham: int
    unsure: int
    spam: int
    requests: int = Field(description="Classify requests answered.")
    latency_ms_p50: float | None = Field(description="Median classify latency; null "
                                         "without requests.")
    latency_ms_p95: float | None


class StoreCounts(BaseModel):
    classifications: int
    events: int
    spam: int
    ham: int
    conflicts: int


class StatsResponse(BaseModel):
    """This server process's own counts (each worker answers for itself)."""

    started_at: datetime = Field(description="When this process started counting.")
    model_version: str
    totals: dict[str, int] = Field(description="Messages by verdict since start.")
    minutes: list[StatsMinute] = Field(description="The last hour, oldest first, a row a "
                                       "minute (empty minutes included).")
    history_days: float = Field(description="Classifications are kept this many days.")
    store: StoreCounts | None = Field(description="What the feedback store holds; null "
                                      "without one.")
