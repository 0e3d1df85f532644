"""Run the REST API under uvicorn, on a data folder.

Data folder layout::

    DIR/
      models/            a ModelRegistry; a fresh DIR gets the bundled model as its
                         first version, active
      retrain-reports/   one JSON report per retrain (``spamsift retrain``, or every
                         ``retrain_interval_hours`` in a server thread)

The feedback and key stores, when there are any, come from a ``stores`` factory
called with ``(data_dir, settings)``; without one the server has no feedback store
and no API keys (classify only, and only while ``classify_requires_key`` is off).

By default there is one worker process per core (``serve_workers``): scoring holds the
interpreter lock, so one process uses about one core. With ``workers > 1`` uvicorn
starts separate processes, each building its own app from the same data folder: the
factory must then be a module-level function (it is passed by name). Each worker keeps
its own rate-limit buckets, metrics and history writer (:mod:`.recorder`, written out
when uvicorn stops it on SIGTERM); what must stay one writer stays so across them:

- feedback is written to the one store (SQLite serialises writers with its write lock,
  PostgreSQL locks the message's row), and reaches the other workers' models through
  the store's change log, each change once and in order (``feedback_poll_seconds``);
- a version activated through one worker is written to the registry and reaches the
  others when they next poll it (``model_poll_seconds``);
- scheduled retraining runs in each worker, and the retrain lock lets one through.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import socket
import threading
from pathlib import Path

import uvicorn
import uvicorn.supervisors.multiprocess
from fastapi import FastAPI

from spamsift.config import Settings
from spamsift.datadir import prepare_data_dir
from spamsift.exceptions import ConfigError, TrainingError
from spamsift.serving.api.app import create_app
from spamsift.serving.api.auth import InMemoryKeys
from spamsift.serving.api.state import FeedbackStore
from spamsift.serving.live import StoresFactory, open_live
from spamsift.serving.model_holder import ModelHolder

__all__ = ["build_app", "run", "default_workers"]


log = logging.getLogger(__name__)
_WORKER_ENV = "_SPAMSIFT_SERVE_WORKER"  # how a worker process learns what to serve


def build_app(data_dir: str | os.PathLike[str], settings: Settings, *,
              stores: StoresFactory | None = None) -> FastAPI:
    """The app for ``data_dir``: its registry's active model, loaded, and the stores
    (:func:`~spamsift.serving.live.open_live`)."""
    live = open_live(data_dir, settings, stores=stores)
    holder = live.holder
    app = create_app(holder, keys=live.keys or InMemoryKeys(), settings=settings,
                     feedback=live.feedback, sandbox=live.sandbox, auth=live.auth)
    if settings.retrain_interval_hours > 0:
        store = live.feedback.store if live.feedback is not None else None
        app.state.retrain_schedule = _retrain_schedule(Path(data_dir), settings, holder, store)
    return app


def _retrain_schedule(data_dir: Path, settings: Settings, holder: ModelHolder,
                      store: FeedbackStore | None) -> threading.Event:
    """Retrain every ``retrain_interval_hours`` in a daemon thread; set the event to stop.

    A failed retrain is logged and the served model stays. With several workers each
    runs a schedule; the retrain lock lets one through and the others log a skip.
    """
    from spamsift.training.retrain import default_corpus, retrain

    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(settings.retrain_interval_hours * 3600):
            try:
                index, root = default_corpus(settings)
                report = retrain(data_dir, settings, corpus_index=index, corpus_root=root,
                                 store=store)
                log.info("scheduled retrain: %s, version %s: %s", report.decision,
                         report.version, report.reason)
                if report.promoted:
                    holder.refresh()  # now, not at the next poll
            except TrainingError as exc:  # too little data, or another retrain running
                log.warning("scheduled retrain skipped: %s", exc)
            except Exception:  # never take the server down: the current model serves on
                log.exception("scheduled retrain failed; the current model keeps serving")

    threading.Thread(target=loop, name="spamsift-retrain", daemon=True).start()
    return stop


def run(host: str, port: int, data_dir: str | os.PathLike[str], settings: Settings,
        workers: int | None = None, *, stores: StoresFactory | None = None,
        log_level: str = "info") -> None:
    """Serve the REST API until interrupted.

    Parameters
    ----------
    host, port
        Where to listen.
    data_dir : path-like
        The data folder (see the module docstring); created if missing.
    settings : Settings
    workers : int, optional
        Processes; above 1, ``stores`` must be a module-level function. By default
        ``settings.serve_workers``, and when that is 0 one per core
        (:func:`default_workers`).
    stores : callable, optional
        ``stores(data_dir, settings) -> (keys, feedback)``.
    """
    if workers is None:
        workers = settings.serve_workers or default_workers()
    if workers < 1:
        raise ConfigError(f"workers: expected 1 or more, got {workers}")
    if workers == 1:
        app = build_app(data_dir, settings, stores=stores)
        uvicorn.run(app, host=host, port=port, log_level=log_level)
        return
    prepare_data_dir(data_dir)  # once, before the workers race to seed it
    os.environ[_WORKER_ENV] = json.dumps({
        "data_dir": str(Path(data_dir).resolve()),
        "settings": settings.model_dump(mode="json"),
        "stores": _name_of(stores) if stores else None,
    })
    _run_workers(uvicorn.Config(f"{__name__}:_worker_app", factory=True, host=host,
                                port=port, workers=workers, log_level=log_level))


def _run_workers(config: uvicorn.Config) -> None:
    """uvicorn's supervisor (restarts, signals: SIGTERM ends each worker cleanly), each
    worker listening on a socket of its own with ``SO_REUSEPORT``.

    uvicorn's workers share one listening socket, and a worker's event loop accepts
    every connection waiting when it wakes: 10 keep-alive clients connecting at once
    all landed on one of two workers (per-process CPU 76 % and 0.3 % under
    benchmarks/load.py). With a socket each, the kernel deals new connections out
    over the workers. The parent holds the port bound (never listening, so it is
    given no connection) for the workers' sockets to join.
    """
    from uvicorn.supervisors import Multiprocess, multiprocess

    claim = _reuse_port_socket(config.host, config.port)
    config.port = claim.getsockname()[1]  # port 0: the one the parent was given
    multiprocess.Process = _OwnSocketProcess  # type: ignore[misc]
    try:
        Multiprocess(config, sockets=[claim]).run()
    finally:
        claim.close()


def _reuse_port_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                         socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise ConfigError(f"serve cannot listen on {host}:{port}: {e.strerror or e}") from None
    return sock


class _OwnSocketProcess(uvicorn.supervisors.multiprocess.Process):
    """A uvicorn worker that listens on a socket of its own (:func:`_run_workers`)."""

    def target(self, sockets: list[socket.socket] | None = None) -> None:  # in the worker
        _end_with_parent()
        super().target([_reuse_port_socket(self.config.host, self.config.port)])


def _end_with_parent() -> None:
    """SIGTERM this worker when the supervisor dies (Linux), so a supervisor killed
    outright leaves no orphan serving on the port (its socket would let a restarted
    server share the port with it): the worker ends as on a clean stop, its queue of
    classifications written."""
    import ctypes
    import signal

    supervisor = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: uvicorn's supervisor alone
        return
    if os.getppid() != supervisor:  # it died before the call above
        os.kill(os.getpid(), signal.SIGTERM)


def default_workers() -> int:
    """One worker per core this process may run on (its CPU affinity, which a
    container's cpuset narrows; CPU quotas it does not see: set ``--workers`` there)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def _worker_app() -> FastAPI:
    """The app of one worker process, from what :func:`run` left in the environment."""
    spec = json.loads(os.environ[_WORKER_ENV])
    stores = _resolve(spec["stores"]) if spec["stores"] else None
    return build_app(spec["data_dir"], Settings(**spec["settings"]), stores=stores)


def _name_of(fn: StoresFactory) -> str:
    name = f"{fn.__module__}:{fn.__qualname__}"
    try:
        same = _resolve(name) is fn
    except (ImportError, AttributeError):
        same = False
    if not same:
        raise ConfigError(f"stores: with workers > 1 expected a module-level function, "
                          f"got {fn!r}")
    return name


def _resolve(name: str) -> StoresFactory:
    module, _, attr = name.partition(":")
    fn: StoresFactory = getattr(importlib.import_module(module), attr)
    return fn
