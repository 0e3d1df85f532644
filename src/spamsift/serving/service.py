"""The one facade every door classifies through: the CLI, REST, spamd.

Each door only translates its protocol to and from these calls. The path a message
takes is the same through every door::

    loaded = service.holder.current          # one model for the whole request
    item = service.prepare(raw, loaded)      # parsed with that model's limits (a large
                                             # message in the sandbox), authenticated
    [(verdict, cid)] = service.classify_many(loaded, [raw], [item])
                                             # one model call for many; each recorded

``prepare`` may wait for DNS (the authentication checks) and for the sandbox, so the
servers run it per message before a message joins a batch, and ``classify_many``
(CPU-bound) in their scoring threads (:mod:`spamsift.serving.batching`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from spamsift.config import ParseLimits, Settings
from spamsift.exceptions import ModelError
from spamsift.features.batch import chunks
from spamsift.ingest import RawMessage
from spamsift.models.bundled import load_bundled_model
from spamsift.models.persistence import load_model
from spamsift.models.registry import ModelRegistry
from spamsift.models.spam_model import SpamModel, Verdict
from spamsift.parse.message import ParsedMessage
from spamsift.parse.sandbox import ParseSandbox
from spamsift.serving.model_holder import LoadedModel, ModelHolder

if TYPE_CHECKING:
    from spamsift.mailauth import Authenticator, Envelope
    from spamsift.serving.recorder import ClassificationRecorder

__all__ = ["SpamService", "Item", "Classified", "resolve_model", "prepare",
           "prepare_sync", "authenticated"]

Item = bytes | ParsedMessage  # a raw message, or its parse
Classified = tuple[Verdict, str | None]  # the verdict and its classification id

_BATCH = 64
# Threads that may wait on DNS at once (prepare_async): a wait costs a thread, no CPU.
# Not the event loop's default pool (6 threads on 2 cores): a few messages waiting out
# their lookups (up to the 5 s budget) would hold up every message behind them. Not
# tuned; REST's earlier pool (Starlette's) had 40.
_WAITING_THREADS = 32


def resolve_model(model: str | Path | None, settings: Settings | None = None) -> SpamModel:
    """A model from a directory, a registry (its active version), or the bundled default,
    with the site's parse caps and prior-evidence switch from ``settings``."""
    limits = settings.limits if settings else None
    priors = settings.priors if settings else True
    if model is None:
        reg = settings.data_dir / "models" if settings else None
        if reg is not None and (reg / "ACTIVE").is_file():
            return _from_registry(reg, limits, priors)
        return load_bundled_model(limits, priors=priors)
    p = Path(model)
    if (p / "ACTIVE").is_file():
        return _from_registry(p, limits, priors)
    return load_model(p, limits, priors=priors)


def _from_registry(root: Path, limits: ParseLimits | None, priors: bool) -> SpamModel:
    reg = ModelRegistry(root)
    version = reg.active()
    if version is None:
        raise ModelError(f"registry {root} has no active version")
    model = load_model(reg.path(version), limits, priors=priors)
    model.info["version"] = version
    return model


def authenticated(model: SpamModel, item: bytes | ParsedMessage, raw: bytes,
                  auth: Authenticator | None, envelope: Envelope | None = None
                  ) -> bytes | ParsedMessage:
    """``item`` (``raw`` or its parse) parsed with ``model``'s limits and its
    authentication results filled by ``auth`` (:mod:`spamsift.mailauth`). Without
    ``auth``, ``item`` as it is. (:func:`prepare_sync` is the whole step.)

    Blocks for DNS up to ``auth``'s per-message budget: call it off the event loop.
    """
    if auth is None:
        return item
    return auth.apply(model.featurizer.parse(item), raw, envelope)


def prepare_sync(model: SpamModel, raw: bytes, sandbox: ParseSandbox | None,
                 auth: Authenticator | None, envelope: Envelope | None = None
                 ) -> bytes | ParsedMessage:
    """``raw`` made ready for ``model`` to score: the one step every door takes.

    A large message is parsed in ``sandbox`` (:mod:`spamsift.parse.sandbox`) with the
    limits of the model that will score it, the site's; then ``auth`` fills its
    authentication results (SPF with the SMTP ``envelope``, when known). Without a
    sandbox the message is parsed in-process; without ``auth`` its results stay empty.
    Blocks on the sandbox's worker and on DNS: for a thread of its own (the milter's);
    on an event loop, await :func:`prepare`.
    """
    item = raw if sandbox is None else sandbox.prepare_sync(raw, model.featurizer.limits)
    return authenticated(model, item, raw, auth, envelope)


async def prepare(model: SpamModel, raw: bytes, sandbox: ParseSandbox | None,
                  auth: Authenticator | None, envelope: Envelope | None = None,
                  waits: ThreadPoolExecutor | None = None) -> bytes | ParsedMessage:
    """:func:`prepare_sync` on an event loop: the sandbox's parse and the DNS checks
    wait in threads (``waits``, else the loop's default pool), so the loop goes on
    serving other clients (and a message's DNS waits are its own, not its batch's)."""
    item = raw if sandbox is None else await sandbox.prepare(raw, model.featurizer.limits)
    if auth is None:
        return item
    return await asyncio.get_running_loop().run_in_executor(
        waits, authenticated, model, item, raw, auth, envelope)


class SpamService:
    """Classify messages with the model a holder serves: parse with that model's
    limits, large messages in ``sandbox`` (:mod:`spamsift.parse.sandbox`), when given;
    authentication results filled by ``auth`` (:class:`~spamsift.mailauth.Authenticator`),
    when given; each classification recorded by ``recorder``
    (:mod:`spamsift.serving.recorder`) and shown to ``observe`` (a door's metrics),
    when given.

    Parameters
    ----------
    model : SpamModel or ModelHolder
        A fixed model, or the holder a server swaps versions in.
    top_clues : int
        Clues named per verdict.
    """

    def __init__(self, model: SpamModel | ModelHolder, top_clues: int = 8,
                 sandbox: ParseSandbox | None = None, auth: Authenticator | None = None,
                 recorder: ClassificationRecorder | None = None,
                 observe: Callable[[Verdict], None] | None = None) -> None:
        self.holder = (model if isinstance(model, ModelHolder)
                       else ModelHolder.fixed(model, str(model.info.get("version", "fixed"))))
        self.top_clues = top_clues
        self.sandbox = sandbox
        self.auth = auth
        self.recorder = recorder
        self.observe = observe
        self._waits: ThreadPoolExecutor | None = None  # prepare_async's, made on first use

    @property
    def model(self) -> SpamModel:
        """The model served now."""
        return self.holder.current.model

    def prepare(self, raw: bytes, loaded: LoadedModel, envelope: Envelope | None = None
                ) -> Item:
        """:func:`prepare_sync` with ``loaded``'s model and this service's sandbox and
        authenticator."""
        return prepare_sync(loaded.model, raw, self.sandbox, self.auth, envelope)

    async def prepare_async(self, raw: bytes, loaded: LoadedModel) -> Item:
        """:func:`prepare` with ``loaded``'s model, its DNS waits in this service's own
        pool of threads."""
        if self._waits is None and self.auth is not None:
            self._waits = ThreadPoolExecutor(_WAITING_THREADS,
                                             thread_name_prefix="spamsift-prepare")
        return await prepare(loaded.model, raw, self.sandbox, self.auth, waits=self._waits)

    def close(self) -> None:
        """End the threads :meth:`prepare_async` waits in, once their waits are done (a
        door that stops); a later call makes new ones."""
        waits, self._waits = self._waits, None
        if waits is not None:
            waits.shutdown(wait=True, cancel_futures=True)

    def classify_many(self, loaded: LoadedModel, raws: list[bytes], items: list[Item],
                      top: int | None = None) -> list[Classified]:
        """One model call for all of ``items`` (each ``raws[i]`` or what :meth:`prepare`
        made of it), then each verdict observed and recorded: ``(verdict, id)``, the
        id None without a recorder or when the history did not keep it."""
        verdicts = loaded.model.classify(items, top=self.top_clues if top is None else top)
        out: list[Classified] = []
        for raw, v in zip(raws, verdicts, strict=True):
            if self.observe is not None:
                self.observe(v)
            cid = (self.recorder.record(raw, v, loaded.version)
                   if self.recorder is not None else None)
            out.append((v, cid))
        return out

    def classify(self, data: bytes) -> Verdict:
        """The verdict of one message, with the model served now."""
        loaded = self.holder.current
        return self.classify_many(loaded, [data], [self.prepare(data, loaded)])[0][0]

    def classify_stream(self, messages: Iterable[RawMessage], top: int | None = None
                        ) -> Iterator[tuple[RawMessage, Verdict]]:
        """Verdicts for a stream, in batches so memory stays flat."""
        for batch in chunks(messages, _BATCH):
            loaded = self.holder.current
            raws = [b.data for b in batch]
            items = [self.prepare(d, loaded) for d in raws]
            yield from zip(batch, (v for v, _ in self.classify_many(loaded, raws, items, top)),
                           strict=True)
