"""detect_language: py3langid's bundled model, loaded offline, on hand-written lines."""

from __future__ import annotations

import random
import socket
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest

from spamsift.features import language
from spamsift.features.language import detect_language


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        pytest.param("各位同事：本周五下午三点在三楼会议室召开季度总结会议，请准时参加。",
                     "zh", id="chinese-meeting"),
        pytest.param("明日の定例会議は午後三時から第二会議室で行います。資料は事前にお送りします。",
                     "ja", id="japanese-meeting"),
        pytest.param("Коллеги, напоминаю: совещание по бюджету переносится на четверг.",
                     "ru", id="russian-meeting"),
        pytest.param("تذكير: اجتماع الفريق يوم الأحد الساعة العاشرة صباحا في قاعة الاجتماعات.",
                     "ar", id="arabic-meeting"),
        pytest.param("Die Besprechung findet am Donnerstag um zehn Uhr im Konferenzraum statt.",
                     "de", id="german-meeting"),
        pytest.param("โปรโมชั่นพิเศษ ลดราคาสินค้าทุกชิ้นวันนี้เท่านั้น", "th", id="thai-offer"),
        pytest.param("The quarterly report is attached; let me know if the numbers look right.",
                     "en", id="english-note"),
    ],
)
def test_detects_the_language_of_a_line(text: str, lang: str):
    assert detect_language(text) == lang


def test_model_ships_inside_the_package():
    assert files("py3langid").joinpath("data", "model.npz.xz").is_file()


def test_model_loads_without_the_network(monkeypatch: pytest.MonkeyPatch):
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the language model tried to open a socket")

    monkeypatch.setattr(language, "_identifier", None)  # load afresh, restored after
    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    assert detect_language("Guten Morgen, wie geht es Ihnen heute?") == "de"


def test_the_unpacked_cache_gives_the_packaged_models_answers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = language._cache_dir()
    assert folder is not None and folder.parent == tmp_path / "spamsift"
    packaged = language._load()  # loads the packaged file and writes the cache
    assert (folder / "output.npy").is_file()
    cached = language._from_cache(folder)
    texts = [b"Die Besprechung beginnt morgen um zehn Uhr.", b"The meeting starts at ten.",
             "会议明天上午十点开始".encode(), "Встреча начнётся завтра в десять".encode()]
    for t in texts:
        assert cached.classify(t) == packaged.classify(t)
    (folder / "ptc.npy").write_bytes(b"damaged")  # a broken cache is loaded around
    again = language._load()
    assert again.classify(texts[0]) == packaged.classify(texts[0])
    assert language._from_cache(folder).classify(texts[0]) == packaged.classify(texts[0])


@pytest.mark.needs("speedups")
def test_the_c_walk_gives_py3langids_scores():
    from py3langid.langid import LanguageIdentifier

    fast = language._get_identifier()
    assert type(fast) is not LanguageIdentifier  # the C walk is in use where it is built
    plain = LanguageIdentifier(fast.nb_ptc, fast.nb_pc, fast.nb_classes, fast.tk_nextmove,
                               fast.tk_output, tk_row=fast.tk_row)
    rng = random.Random(7)
    lines = ["Die Besprechung beginnt morgen.", "会议明天上午十点开始", "Встреча завтра",
             "The quarterly report is attached.", "", "!!!", "x" * 500]
    texts = [t.encode() for t in lines] + [bytes(rng.randrange(256) for _ in range(
        rng.randrange(300))) for _ in range(200)]
    for t in texts:
        np.testing.assert_array_equal(fast._decide(t), plain._decide(t))
        assert fast.classify(t) == plain.classify(t)
