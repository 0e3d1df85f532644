"""Typed settings, read once at the edge (CLI or server start) and passed down.

Sources, first wins: explicit arguments (overrides), environment (``SPAMSIFT_*``), a
TOML file named by ``SPAMSIFT_CONFIG``, then the defaults below. The file is read
through pydantic-settings' own TOML source when settings are built, never at import
time; :func:`settings_sources` says which source each effective value came from.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from spamsift.exceptions import ConfigError
from spamsift.networks import IPNetwork, parse_networks

__all__ = ["ParseLimits", "ImageLimits", "Settings", "load_settings", "settings_sources",
           "default_corpus_root", "CONFIG_ENV", "MAX_MESSAGE_BYTES", "Source"]

#: The environment variable naming the TOML settings file.
CONFIG_ENV = "SPAMSIFT_CONFIG"

Source = Literal["override", "env", "file", "default"]

#: The one default cap on a message's size, ``limits.max_message_bytes``: the parser
#: reads no further, the readers (spamsift.ingest) keep no more, the feedback store
#: refuses larger, spamd answers EX_TOOBIG past it and the milter scans no more. Code
#: with settings takes ``settings.limits.max_message_bytes``; this is its default.
MAX_MESSAGE_BYTES = 10 * 1024 * 1024


class ImageLimits(BaseModel, frozen=True, extra="forbid"):
    """Caps on the work images cost (spamsift.parse.extract.images), per image and per
    message. Past a cap the image is skipped or cut and the message flagged.

    ``ocr`` and ``barcodes`` switch the two readers; :class:`Settings` folds its
    top-level ``ocr`` and ``barcodes`` (``SPAMSIFT_OCR=false``) into them.
    """

    ocr: bool = True
    barcodes: bool = True
    # No bigger image fits a 10 MiB message once base64-encoded (4/3 larger).
    max_image_bytes: int = Field(8 * 1024 * 1024, gt=0)
    # Width x height as the header declares it, checked before anything is decoded
    # (a 1 KiB PNG can declare 100k x 100k). 25 Mpx holds a 12 Mpx phone photo twice
    # over and decodes in about 0.25 s to 25 MB of greyscale (benchmarks/images.py).
    max_image_pixels: int = Field(25_000_000, gt=0)
    max_images: int = Field(10, gt=0)
    # Declared pixels of all a message's images: decoding and barcode reading are not
    # under OCR's clock, and cost 1.1-2.0 s per image at the pixel cap (25 Mpx of
    # text; benchmarks/images.py), so two such images per message, not ten.
    max_total_pixels: int = Field(50_000_000, gt=0)
    # OCR's time for all of a message's images, checked between text lines. Not tuned
    # on mail (the corpus predates image spam); set from benchmarks/images.py: a line
    # costs about 0.1 s (an 800 x 600 screenshot of 20 lines: 2.6 s), a 2,000 px line
    # 0.4 s, so 5 s reads a dense screenshot or two and bounds a hostile image.
    ocr_seconds: float = Field(5.0, gt=0)
    # Images smaller than this are not OCR'd: tracking pixels, icons, bullets. A
    # one-line banner of 14 px text is about 300 x 40 = 12,000 px (not tuned).
    ocr_min_pixels: int = Field(10_000, ge=0)
    ocr_min_side: int = Field(16, ge=1)
    # Longest side given to OCR; larger images are scaled down first (rapidocr's own
    # default cap). Text under about 50 px at 5,000 px is lost so (benchmarks/images.py).
    ocr_max_side: int = Field(2000, ge=32)
    ocr_max_lines: int = Field(200, gt=0)
    # Text kept per image (OCR) and per barcode.
    max_text_chars: int = Field(20_000, gt=0)


class ParseLimits(BaseModel, frozen=True, extra="forbid"):
    """Separate caps on bytes, structure and work, as SpamAssassin and rspamd keep.

    Past a cap the message is scored on what was read and flagged ``truncated``.
    """

    max_message_bytes: int = Field(MAX_MESSAGE_BYTES, gt=0)
    # Body text beyond this is not tokenised: spam says what it has to say early.
    max_text_chars: int = Field(200_000, gt=0)
    max_parts: int = Field(200, gt=0)
    max_depth: int = Field(20, gt=0)
    max_header_bytes: int = Field(256 * 1024, gt=0)
    max_headers: int = Field(1000, gt=0)
    max_html_bytes: int = Field(2 * 1024 * 1024, gt=0)
    max_urls: int = Field(500, gt=0)
    # Attachment text (spamsift.parse.extract). Every attachment is hostile input; the
    # caps bound what one message can cost in-process (a message under the sandbox's
    # 256 KiB is parsed there). Figures from benchmarks/extract.py, this machine.
    extract: bool = True
    # An attachment larger than this is not read (flag extract:too_big): a PDF's
    # cross-reference table is at its end, so a prefix is no use. A 4 MiB PDF of
    # 20,000 pages took 0.25-0.35 s here, its first 30 pages read.
    max_attachment_bytes: int = Field(4 * 1024 * 1024, gt=0)
    # Parts made per message (zip members included), and their text in all.
    max_extract_parts: int = Field(20, gt=0)
    max_extract_chars: int = Field(50_000, gt=0)
    # Pages of one PDF: 1-2 ms each for a page of 2,000 characters (pypdf).
    max_pdf_pages: int = Field(30, gt=0)
    # Members of one zip looked at (archives, and the parts of Office files).
    max_archive_members: int = Field(100, gt=0)
    # Bytes decompressed for one message in all (zip members, Office XML), and the
    # largest ratio of decompressed to compressed size a zip member may have past its
    # first 64 KiB. Office XML compresses 5-30x; a zip bomb ~1,000x.
    max_expanded_bytes: int = Field(16 * 1024 * 1024, gt=0)
    max_expansion_ratio: float = Field(200.0, gt=1)
    # Wall-clock for all of one message's extraction (a watchdog stops pure-Python
    # work past it: spamsift.parse.extract.deadline). Ordinary documents take 1-45 ms.
    extract_seconds: float = Field(1.0, gt=0)
    # Images (QR codes, OCR): their own caps and clock, outside extract_seconds (OCR of
    # one screenshot takes 2-3 s). The site's settings fill them in (Settings.images).
    images: ImageLimits = ImageLimits()


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

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # First wins: overrides, environment, the SPAMSIFT_CONFIG file (defaults last).
        return init_settings, env_settings, _ConfigFile(settings_cls)

    corpus_root: Path | None = None
    data_dir: Path = Path("data")
    # The spam cut-off is picked on out-of-fold training scores to keep ham marked
    # spam at or below this rate; the unsure cut-off at ``unsure_fpr``.
    target_fpr: float = Field(0.001, gt=0, lt=0.5)
    unsure_fpr: float = Field(0.01, gt=0, lt=0.5)
    seed: int = 0
    n_jobs: int = Field(-1)
    top_clues: int = Field(8, ge=0, le=100)
    # Train with tokens that name the receiving site (recipient domains, relays); off
    # for a model meant for any site, as the bundled one (features.tokens.header_tokens).
    site_evidence: bool = True
    # Prior evidence (spamsift.models.priors): rspamd's published weights for the
    # authentication and link signals a site's training mail may lack, each fading out
    # once 50 of the site's rows carry it. Off (SPAMSIFT_PRIORS=false) scores with the
    # model's own weights alone. Applied when a model is loaded; not saved with it.
    priors: bool = True
    limits: ParseLimits = ParseLimits()
    # Reading images: OCR (the costly part: benchmarks/images.py) and barcodes, each
    # off for sites that do not want its cost (SPAMSIFT_OCR=false); caps in ``images``.
    ocr: bool = True
    barcodes: bool = True
    images: ImageLimits = ImageLimits()
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
    # `spamsift serve` processes (`--workers`); 0: one per core this process may run on.
    # Scoring holds the interpreter lock nearly throughout, so a process keeps about
    # one core busy (README, "Load on the REST API").
    serve_workers: int = Field(0, ge=0)
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
    # Mail authentication (spamsift.mailauth). The authserv-ids the site's own MTAs
    # write in Authentication-Results (comma-separated, e.g. "mx1.example.org"): only
    # those headers count; any other is ignored (a sender can forge one) and is
    # evidence itself. Empty: nothing from headers counts.
    trusted_authserv_ids: Annotated[tuple[str, ...], NoDecode] = ()
    # Where spamsift verifies DKIM, ARC, DMARC (and SPF in the milter) itself: "doors"
    # (classify, REST, spamd, milter; not train/score/evaluate, whose archives' DKIM
    # keys no longer resolve, unless run with --verify-auth), "always", or "never" (no
    # lookups at all: trusted headers only).
    auth_verify: Literal["doors", "always", "never"] = "doors"
    # The resolvers to ask, "IP:PORT,..." ("[IPv6]:PORT"; port 53 by default); empty:
    # the system's (/etc/resolv.conf).
    dns_servers: Annotated[tuple[str, ...], NoDecode] = ()
    # Seconds one lookup may take, and all of one message's lookups together: a DNS
    # outage costs each message at most this (then temperror), never a hang. Not
    # tuned: a recursive resolver answers in milliseconds from cache, and in well under
    # a second for most authoritative servers; MTAs wait 60 s or more for a milter.
    dns_timeout: float = Field(2.0, gt=0, le=30)
    auth_time_budget: float = Field(5.0, gt=0, le=60)

    @field_validator("trusted_authserv_ids", mode="before")
    @classmethod
    def _authserv_ids(cls, v: Any) -> tuple[str, ...]:
        items = v.split(",") if isinstance(v, str) else list(v)
        out = []
        for item in items:
            if not isinstance(item, str) or any(c.isspace() or c in ";()" for c in
                                                item.strip()):
                raise ValueError(f"expected authserv-ids (host names), comma-separated, "
                                 f"got {item!r}")
            if item.strip():
                out.append(item.strip().lower())
        return tuple(out)

    @field_validator("dns_servers", mode="before")
    @classmethod
    def _dns_servers(cls, v: Any) -> tuple[str, ...]:
        from spamsift.mailauth.resolver import parse_servers

        try:
            servers = parse_servers(v if isinstance(v, str) else list(v), name="dns_servers")
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return tuple(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in servers)

    @field_validator("images")
    @classmethod
    def _image_switches(cls, v: ImageLimits, info: Any) -> ImageLimits:
        # The top-level switches are the ones documented; off there is off in images.
        ocr = v.ocr and info.data.get("ocr", True)
        barcodes = v.barcodes and info.data.get("barcodes", True)
        if (ocr, barcodes) == (v.ocr, v.barcodes):
            return v
        return v.model_copy(update={"ocr": ocr, "barcodes": barcodes})

    @model_validator(mode="after")
    def _images_in_limits(self) -> Settings:
        # The parser reads one ParseLimits: the image caps and switches travel in it.
        if self.limits.images != self.images:
            object.__setattr__(self, "limits", self.limits.model_copy(
                update={"images": self.images}))
        return self

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


class _ConfigFile(TomlConfigSettingsSource):
    """The TOML file ``SPAMSIFT_CONFIG`` names, looked up when settings are built.

    pydantic-settings skips a TOML file that does not exist; a file that was named
    but cannot be read is a :class:`ConfigError` here, as a typo in the name should be.
    """

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        name = os.environ.get(CONFIG_ENV)
        path = Path(name).expanduser() if name else None
        if path is not None and not path.is_file():
            raise ConfigError(f"{CONFIG_ENV}={name!r}: expected a TOML file, found none")
        super().__init__(settings_cls, toml_file=path)

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        try:
            return super()._read_file(file_path)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{CONFIG_ENV}={str(file_path)!r}: cannot read TOML: "
                              f"{exc}") from exc


def _given(overrides: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in overrides.items() if v is not None}


def load_settings(**overrides: Any) -> Settings:
    """Build settings from overrides, environment, the ``SPAMSIFT_CONFIG`` file, defaults.

    Overrides that are None are not given (a CLI option left out).

    Raises
    ------
    ConfigError
        Naming the key, the bad value and where it came from.
    """
    given = _given(overrides)
    try:
        settings = Settings(**given)
    except ValidationError as exc:
        layers = _layers(given)
        errs = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}={e.get('input')!r}"
            f" ({_source_of(layers, [str(p) for p in e['loc']])}): {e['msg']}"
            for e in exc.errors()
        )
        raise ConfigError(f"bad setting: {errs}") from exc
    except SettingsError as exc:  # the environment's JSON for a nested setting
        field = re.search(r'field "(\w+)"', str(exc))
        name = f"SPAMSIFT_{field.group(1).upper()}" if field else "SPAMSIFT_*"
        raise ConfigError(f"bad setting: {name}={os.environ.get(name)!r}: expected JSON "
                          f"({exc.__cause__})") from exc
    if settings.corpus_root is None:
        root = default_corpus_root()
        if root is not None:
            settings = settings.model_copy(update={"corpus_root": root})
    return settings


def settings_sources(**overrides: Any) -> dict[str, tuple[Any, Source]]:
    """Every effective setting by dotted name (``limits.max_parts``): value and source.

    The source is ``override``, ``env``, ``file`` or ``default`` (what
    :func:`load_settings` fills in, such as a corpus found beside the project, counts
    as default). Values are as JSON has them; secrets (the password in
    ``database_url``) are masked.

    >>> settings_sources()["limits.max_parts"]  # doctest: +SKIP
    (200, 'default')
    """
    given = _given(overrides)
    settings = load_settings(**given)
    layers = _layers(given)
    return {name: (_mask(name, value), _source_of(layers, name.split(".")))
            for name, value in _flatten(settings.model_dump(mode="json"))}


def _layers(given: dict[str, Any]) -> list[tuple[Source, dict[str, Any]]]:
    """What each source holds, first wins: the same sources :class:`Settings` reads."""
    return [("override", given), ("env", EnvSettingsSource(Settings)()),
            ("file", _ConfigFile(Settings)())]


def _source_of(layers: list[tuple[Source, dict[str, Any]]], path: list[str]) -> Source:
    for source, values in layers:
        node: Any = values
        for key in path:
            if not isinstance(node, Mapping) or key not in node:
                break
            node = node[key]
        else:
            return source
    return "default"


def _flatten(values: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in values.items():
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


# Settings whose values hold secrets: shown with the password masked.
_SECRET_URLS = frozenset({"database_url"})


def _mask(name: str, value: Any) -> Any:
    """``value`` with the password of a secret URL (user:PASSWORD@, ?password=) masked."""
    if name not in _SECRET_URLS or not isinstance(value, str):
        return value
    try:
        parts = urlsplit(value)
        query = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return "***"
    userinfo, _, host = parts.netloc.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    in_query = any(k.lower() == "password" for k, _ in query)
    if not colon and not in_query:
        return value  # rebuilt, sqlite:////abs/path would lose a slash
    if colon:
        parts = parts._replace(netloc=f"{user}:***@{host}")
    if in_query:
        parts = parts._replace(query=urlencode(
            [(k, "***" if k.lower() == "password" else v) for k, v in query], safe="*"))
    return urlunsplit(parts)
