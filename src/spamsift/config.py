"""Typed settings, read once at the edge (CLI or server start) and passed down.

Sources, first wins: explicit arguments, environment (``SPAMSIFT_*``), a TOML file
named by ``SPAMSIFT_CONFIG``, then the defaults below. No module reads settings at
import time.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from spamsift.exceptions import ConfigError
from spamsift.serving.networks import IPNetwork, parse_networks

__all__ = ["ParseLimits", "Settings", "load_settings", "default_corpus_root"]


class ParseLimits(BaseModel, frozen=True):
    """Separate caps on bytes, structure and work, as SpamAssassin and rspamd keep.

    Past a cap the message is scored on what was read and flagged ``truncated``.
    """

    max_message_bytes: int = Field(10 * 1024 * 1024, gt=0)
    # Body text beyond this is not tokenised: spam says what it has to say early.
    max_text_chars: int = Field(200_000, gt=0)
    max_parts: int = Field(200, gt=0)
    max_depth: int = Field(20, gt=0)
    max_header_bytes: int = Field(256 * 1024, gt=0)
    max_headers: int = Field(1000, gt=0)
    max_html_bytes: int = Field(2 * 1024 * 1024, gt=0)
    max_urls: int = Field(500, gt=0)


def default_corpus_root() -> Path | None:
    """The shared SpamAssassin corpus beside the project, where it exists."""
    for base in (Path.cwd(), Path(__file__).resolve().parents[3]):
        cand = (base / ".." / "shared" / "corpora" / "spamassassin").resolve()
        if (cand / "index.csv").is_file():
            return cand
    return None


class Settings(BaseSettings):
    """All of spamsift's settings. Construct through :func:`load_settings`."""

    model_config = SettingsConfigDict(env_prefix="SPAMSIFT_", frozen=True, extra="forbid")

    corpus_root: Path | None = None
    data_dir: Path = Path("data")
    # The spam cut-off is picked on out-of-fold training scores to keep ham marked
    # spam at or below this rate; the unsure cut-off at ``unsure_fpr``.
    target_fpr: float = Field(0.001, gt=0, lt=0.5)
    unsure_fpr: float = Field(0.01, gt=0, lt=0.5)
    seed: int = 0
    n_jobs: int = Field(-1)
    top_clues: int = Field(8, ge=0, le=100)
    limits: ParseLimits = ParseLimits()
    # REST API (`spamsift serve`). Feedback and admin calls always need an API key;
    # classify only when this is true.
    # Feedback and keys database: SQLite in DATA_DIR by default, PostgreSQL by URL
    # (postgresql+psycopg://user:pass@host/db).
    database_url: str | None = None
    # Classifications (verdict, sender, subject, clues; the message itself while
    # nothing else refers to it) are kept this many days for the dashboard's history,
    # then purged by the server (at start and hourly). 0 keeps them for ever.
    history_days: float = Field(30.0, ge=0)
    classify_requires_key: bool = False
    # Largest request body, refused while it is read: a message at
    # limits.max_message_bytes (10 MiB) base64-encoded in JSON is 13.4 MiB.
    max_request_bytes: int = Field(16 * 1024 * 1024, gt=0)
    max_batch_messages: int = Field(100, gt=0)
    # Token bucket per API key (per client address without one): the refill rate, and
    # how many requests a quiet client may send at once. 0 turns the limit off.
    rate_limit_per_minute: float = Field(600.0, ge=0)
    rate_limit_burst: int = Field(60, gt=0)
    # Classify calls from loopback (always) and from these networks spend no token: a
    # mail server scores every message it receives, and throttling it holds up mail.
    # Addresses or CIDR networks, comma-separated ("10.0.0.0/8,2001:db8::/32"; NoDecode:
    # the environment gives that string, not JSON). Feedback and admin calls are
    # limited for every caller.
    rate_limit_exempt_networks: Annotated[tuple[IPNetwork, ...], NoDecode] = ()
    # How often the server re-reads the registry's active version, so one activated
    # elsewhere (the CLI, another worker) is served within this many seconds; 0: never.
    model_poll_seconds: float = Field(2.0, ge=0)
    # How often each server process reads the feedback store's label changes made by
    # other processes (workers, spamd, replicas) and applies them: the bound on how
    # stale a replica's model can be. On PostgreSQL a NOTIFY wakes it at once (measured
    # by benchmarks/replicas.py: median 16-25 ms from one replica's answer to the
    # other's verdict) and this poll is the backstop; a poll is one indexed query. 0: no
    # polling (others' changes then arrive only with this process's own feedback writes).
    feedback_poll_seconds: float = Field(0.5, ge=0)
    # Full retraining (`spamsift retrain`; see spamsift.training.retrain). The server
    # retrains every this many hours on the corpus at corpus_root plus all feedback;
    # 0: never (run `spamsift retrain` from cron instead).
    retrain_interval_hours: float = Field(0.0, ge=0)
    # Share of each class held back to compare the challenger with the served model.
    retrain_holdout: float = Field(0.2, gt=0, lt=1)
    # How much more spam (as a rate) the challenger may miss than the served model and
    # still count as not worse. Not tuned: half a point, so a retrain on a little more
    # data is not refused for one message's difference on a slice of a few hundred.
    retrain_tolerance: float = Field(0.005, ge=0, lt=1)
    # `--dask ADDRESS`: seconds to wait for the scheduler to answer and for a worker to
    # join before giving up with a configuration error (not tuned: long enough for a
    # scheduler across a data centre, short enough that a typo fails fast).
    dask_timeout: float = Field(10.0, gt=0)
    # The daemons (serve, spamd, milter) parse messages of at least this many bytes in
    # worker processes (spamsift.parse.sandbox): killed past ``sandbox_timeout``
    # seconds, refused allocations past ``sandbox_memory_mb`` more than they started
    # with, replaced after 100 messages. The caps keep smaller messages cheap
    # in-process (benchmarks/hostile.py: the worst hostile classes at 256 KiB cost
    # milliseconds). 0 sends every message to a worker.
    sandbox_min_bytes: int = Field(256 * 1024, ge=0)
    sandbox_timeout: float = Field(10.0, gt=0)
    sandbox_memory_mb: int = Field(512, ge=64)
    sandbox_workers: int = Field(2, gt=0)

    @field_validator("rate_limit_exempt_networks", mode="before")
    @classmethod
    def _networks(cls, v: Any) -> tuple[IPNetwork, ...]:
        # Parsed once here, so a request only compares addresses.
        try:
            return parse_networks(v, name="rate_limit_exempt_networks")
        except ConfigError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("unsure_fpr")
    @classmethod
    def _unsure_looser(cls, v: float, info: Any) -> float:
        t = info.data.get("target_fpr")
        if t is not None and v < t:
            raise ValueError(f"unsure_fpr must be >= target_fpr ({t}), got {v}")
        return v


def load_settings(**overrides: Any) -> Settings:
    """Build settings from defaults, an optional TOML file, environment and overrides.

    Raises
    ------
    ConfigError
        Naming the key and the bad value.
    """
    import os

    file_values: dict[str, Any] = {}
    cfg = os.environ.get("SPAMSIFT_CONFIG")
    if cfg:
        try:
            file_values = tomllib.loads(Path(cfg).read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"SPAMSIFT_CONFIG={cfg!r}: cannot read TOML: {exc}") from exc
    values = {**file_values, **{k: v for k, v in overrides.items() if v is not None}}
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        errs = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}={e.get('input')!r}: {e['msg']}"
            for e in exc.errors()
        )
        raise ConfigError(f"bad setting: {errs}") from exc
    if settings.corpus_root is None:
        root = default_corpus_root()
        if root is not None:
            settings = settings.model_copy(update={"corpus_root": root})
    return settings
