"""Daemons load the OCR engine when they start, on a thread of their own, so the
first message with a picture of text does not stall its batch; never with OCR off."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from tests.serving.api.support import api_settings, make_keys
from tests.serving.spamd.support import running

from spamsift.config import Settings
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
