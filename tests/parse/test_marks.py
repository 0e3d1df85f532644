"""cap_mark_runs: the table's quick test for long runs against the regex alone."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from spamsift.parse import marks
from spamsift.parse.marks import MAX_MARK_RUN, cap_mark_runs

# Marks of the Basic Multilingual Plane and above it, a letter, CJK, an astral letter.
_CHARS = st.sampled_from(["\u0301", "\u0f73", "\u093f", "\U0001d167", "\U0001e94a", "a", "é",
                          "中", "\U00010000", " "])


def _regex_alone(text: str) -> tuple[str, int]:
    return marks._mark_run().subn(lambda m: m.group(0)[:MAX_MARK_RUN], text)


@given(st.lists(st.tuples(_CHARS, st.integers(1, 45)), max_size=12))
@settings(max_examples=300)
def test_equals_the_regex_alone(runs: list[tuple[str, int]]):
    text = "".join(ch * n for ch, n in runs)
    assert cap_mark_runs(text) == _regex_alone(text)


def test_a_run_at_either_end_or_exactly_at_the_cap():
    for text in ("\u0301" * 31 + "a", "a" + "\u0301" * 31, "a" + "\u0301" * 30 + "b",
                 "\U0001d167" * 40, "é" * 100):
        assert cap_mark_runs(text) == _regex_alone(text)
    assert cap_mark_runs("a" + "\u0301" * 30)[1] == 0
    assert cap_mark_runs("a" + "\u0301" * 31) == ("a" + "\u0301" * 30, 1)
