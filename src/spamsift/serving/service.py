"""The one facade every front end uses: load a model, classify, explain.

CLI now, REST and mail protocols later: each only translates its protocol to and
from these calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
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

if TYPE_CHECKING:
    from spamsift.mailauth import Authenticator, Envelope

__all__ = ["SpamService", "resolve_model", "prepare", "prepare_sync", "authenticated"]

_BATCH = 64


def resolve_model(model: str | Path | None, settings: Settings | None = None) -> SpamModel:
    """A model from a directory, a registry (its active version), or the bundled default."""
    limits = settings.limits if settings else None  # the site's parse caps
    if model is None:
        reg = settings.data_dir / "models" if settings else None
        if reg is not None and (reg / "ACTIVE").is_file():
            return _from_registry(reg, limits)
        return load_bundled_model(limits)
    p = Path(model)
    if (p / "ACTIVE").is_file():
        return _from_registry(p, limits)
    return load_model(p, limits)


def _from_registry(root: Path, limits: ParseLimits | None) -> SpamModel:
    reg = ModelRegistry(root)
    version = reg.active()
    if version is None:
        raise ModelError(f"registry {root} has no active version")
    model = load_model(reg.path(version), limits)
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


async def prepare(model: SpamModel, raw: bytes, sandbox: ParseSandbox,
                  auth: Authenticator | None, envelope: Envelope | None = None
                  ) -> bytes | ParsedMessage:
    """:func:`prepare_sync` on an event loop: the sandbox's parse and the DNS checks
    wait in threads, so the loop goes on serving other clients (and a message's DNS
    waits are its own, not its batch's)."""
    item = await sandbox.prepare(raw, model.featurizer.limits)
    if auth is None:
        return item
    return await asyncio.get_running_loop().run_in_executor(
        None, authenticated, model, item, raw, auth, envelope)


class SpamService:
    """Classify messages with one loaded model; large ones are parsed in ``sandbox``
    (:mod:`spamsift.parse.sandbox`), when given; ``auth`` fills their authentication
    results (:class:`~spamsift.mailauth.Authenticator`), when given."""

    def __init__(self, model: SpamModel, top_clues: int = 8,
                 sandbox: ParseSandbox | None = None, auth: Authenticator | None = None):
        self.model = model
        self.top_clues = top_clues
        self.sandbox = sandbox
        self.auth = auth

    def _items(self, datas: list[bytes]) -> list[bytes | ParsedMessage]:
        return [prepare_sync(self.model, d, self.sandbox, self.auth) for d in datas]

    def classify(self, data: bytes) -> Verdict:
        return self.model.classify(self._items([data]), top=self.top_clues)[0]

    def classify_stream(self, messages: Iterable[RawMessage], top: int | None = None
                        ) -> Iterator[tuple[RawMessage, Verdict]]:
        """Verdicts for a stream, in batches so memory stays flat."""
        top = self.top_clues if top is None else top
        for batch in chunks(messages, _BATCH):
            yield from zip(batch, self.model.classify(self._items([b.data for b in batch]),
                                                      top=top), strict=True)
