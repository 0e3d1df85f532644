"""Daemons start and stop their threads: the OCR engine loaded at start on a thread of
its own (never with OCR off), so the first picture of text does not stall its batch;
the DNS waiting threads ended when the door stops."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from tests.serving.api.support import api_settings, make_keys
from tests.serving.spamd.support import exchange, request, running

from spamsift.config import Settings
from spamsift.mailauth import Authenticator
from spamsift.models.spam_model import SpamModel
from spamsift.parse.extract import ocr
from spamsift.serving.api.app import create_app
from spamsift.serving.live import Live
from spamsift.serving.model_holder import ModelHolder
from spamsift.serving.spamd.server import SpamdServer


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every load of the engine, by the thread that asked; each load sets ``done``."""
    seen: list[str] = []
    done = threading.Event()

    def load() -> object:
        seen.append(threading.current_thread().name)
        done.set()
        return object()

    monkeypatch.setattr(ocr, "load_engine", load)
    monkeypatch.setattr(ocr, "_done_for_tests", done, raising=False)
    return seen


def test_warm_up_loads_on_its_own_thread_and_not_when_off(loads: list[str]) -> None:
    assert ocr.warm_up(False) is None
    thread = ocr.warm_up(True)
    assert thread is not None
    thread.join(10)
    assert loads == ["spamsift-ocr-warm-up"]


def test_a_failing_load_is_left_to_the_message_that_needs_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> object:
        raise ocr.OcrUnavailable("not installed")

    monkeypatch.setattr(ocr, "load_engine", broken)
    thread = ocr.warm_up(True)
    assert thread is not None
    thread.join(10)  # ends quietly: pytest fails a test whose thread raised
    assert not thread.is_alive()


@pytest.mark.parametrize("on", [True, False])
def test_the_rest_api_warms_the_engine_at_start_only_with_ocr_on(
        on: bool, loads: list[str], small_model: SpamModel) -> None:
    app = create_app(ModelHolder.fixed(small_model), keys=make_keys(),
                     settings=api_settings(ocr=on))
    with TestClient(app):
        if on:
            assert ocr._done_for_tests.wait(10)  # type: ignore[attr-defined]
    assert loads == (["spamsift-ocr-warm-up"] if on else [])


@pytest.mark.parametrize("on", [True, False])
def test_spamd_warms_the_engine_at_start_only_with_ocr_on(
        on: bool, loads: list[str], small_model: SpamModel) -> None:
    holder = ModelHolder.fixed(small_model, version="small")
    server = SpamdServer(Live(holder, None, None), Settings(model_poll_seconds=0, ocr=on))
    with running(server):
        if on:
            assert ocr._done_for_tests.wait(10)  # type: ignore[attr-defined]
    assert loads == (["spamsift-ocr-warm-up"] if on else [])


def _waiting_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("spamsift-prepare")]


def test_the_rest_api_ends_its_dns_waiting_threads_when_it_stops(
        small_model: SpamModel) -> None:
    """A stopped door leaves no thread behind (its prepare pool is the service's)."""
    before = _waiting_threads()
    app = create_app(ModelHolder.fixed(small_model), keys=make_keys(),
                     settings=api_settings(ocr=False))
    with TestClient(app) as client:
        assert client.post("/v1/classify", content=b"Subject: hi\n\nlunch?").status_code == 200
        assert len(_waiting_threads()) > len(before)
    assert _waiting_threads() == before
    app.state.spamsift.service.close()  # again, after the door stopped: nothing to end
    assert _waiting_threads() == before


def test_spamd_ends_its_dns_waiting_threads_when_it_stops(small_model: SpamModel) -> None:
    before = _waiting_threads()
    settings = Settings(model_poll_seconds=0, ocr=False, auth_verify="never")
    live = Live(ModelHolder.fixed(small_model, version="small"), None, None,
                auth=Authenticator.from_settings(settings, door=True))
    server = SpamdServer(live, settings)
    with running(server) as port:
        assert b" 0 EX_OK" in exchange(port, request("CHECK", b"Subject: hi\n\nok"))
        assert len(_waiting_threads()) > len(before)
    assert _waiting_threads() == before
