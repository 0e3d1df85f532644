"""Streaming train: the seed's recipe plus counts learned chunk by chunk, read lazily."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest

from spamsift.config import Settings
from spamsift.exceptions import TrainingError
from spamsift.features.batch import featurize
from spamsift.features.dedup import duplicate_of
from spamsift.features.featurizer import MessageFeaturizer
from spamsift.ingest import RawMessage
from spamsift.training.streaming import SeenKeys, train_stream
from spamsift.training.trainer import TrainOptions, fit_model

Mail = list[tuple[bytes, str]]
# As conftest's small_model: the corpus-tuned block weights are for thousands of messages.
OPTS = TrainOptions(learning_curve=False, params={"model": "nb+svm", "aux_weight": 0.5,
                                                   "rep_weight": None, "C_svm": 3.0})


def raw(mail: Mail) -> list[RawMessage]:
    return [RawMessage(f"m{i:03d}", data, label) for i, (data, label) in enumerate(mail)]


def test_counts_equal_the_seed_model_learning_the_rest_in_one_batch(
        mail_factory: Callable[..., Mail], small_featurizer: MessageFeaturizer,
        small_settings: Settings) -> None:
    msgs = raw(mail_factory(70, 70, seed=3))
    model, details = train_stream(iter(msgs), small_featurizer, small_settings, OPTS,
                                  seed_size=40, chunk_size=16)
    # The oracle: the batch dedup rule, the recipe on the first 40 distinct rows, then
    # one partial_fit of every other distinct row.
    X, meta = featurize(small_featurizer, [m.data for m in msgs], n_jobs=1)
    group = duplicate_of(meta)
    keep = [i for i, g in enumerate(group) if g == i]
    y = np.array([int(m.label == "spam") for m in msgs])
    oracle, _ = fit_model(small_featurizer, X[keep[:40]], y[keep[:40]], small_settings, OPTS)
    oracle.classifier.partial_fit(X[keep[40:]], y[keep[40:]])
    got, want = model.classifier, oracle.classifier
    np.testing.assert_array_equal(got.nb_count_, want.nb_count_)
    np.testing.assert_array_equal(got.nb_class_count_, want.nb_class_count_)
    np.testing.assert_array_equal(got.reputation_.spam_, want.reputation_.spam_)
    np.testing.assert_array_equal(got.reputation_.ham_, want.reputation_.ham_)
    np.testing.assert_allclose(got.coef_binary_, want.coef_binary_)
    np.testing.assert_array_equal(got.coef_normalized_, want.coef_normalized_)
    assert details["n_seed"] == 40
    assert details["n_streamed"] == len(keep) - 40
    assert details["duplicates_dropped"] == len(msgs) - len(keep)
    assert model.info["training_data"]["streamed"] is True
    assert 0 < model.unsure_cutoff <= model.spam_cutoff


def test_a_duplicate_is_learned_once(mail_factory: Callable[..., Mail],
                                     small_featurizer: MessageFeaturizer,
                                     small_settings: Settings) -> None:
    msgs = raw(mail_factory(30, 30, seed=4))
    spam = next(m for m in msgs[40:] if m.label == "spam")
    twice = [*msgs, RawMessage("again", spam.data, "spam"),
             RawMessage("mbox-again", b"From x@y Mon Jan  1 00:00:00 2024\n" + spam.data, "spam")]
    once, d1 = train_stream(iter(msgs), small_featurizer, small_settings, OPTS, seed_size=30,
                            chunk_size=8)
    again, d2 = train_stream(iter(twice), small_featurizer, small_settings, OPTS,
                             seed_size=30, chunk_size=8)
    assert d2["duplicates_dropped"] == d1["duplicates_dropped"] + 2
    np.testing.assert_array_equal(again.classifier.nb_count_, once.classifier.nb_count_)


def test_rows_whose_keys_are_banned_are_not_learned(mail_factory: Callable[..., Mail],
                                                     small_featurizer: MessageFeaturizer,
                                                     small_settings: Settings) -> None:
    msgs = raw(mail_factory(30, 30, seed=5))
    seen = SeenKeys()
    for m in msgs[-5:]:  # as the CLI does with the test rows
        seen.add_message(small_featurizer, m.data)
    _, d = train_stream(iter(msgs), small_featurizer, small_settings, OPTS, seed_size=30,
                        chunk_size=8, seen=seen)
    _, d_all = train_stream(iter(msgs), small_featurizer, small_settings, OPTS, seed_size=30,
                            chunk_size=8)
    assert d["n_train"] == d_all["n_train"] - 5


def test_reads_lazily_holding_at_most_a_chunk_beyond_what_it_used(
        mail_factory: Callable[..., Mail], small_featurizer: MessageFeaturizer,
        small_settings: Settings) -> None:
    base = raw(mail_factory(40, 40, seed=6))
    pulled = used = 0
    most = 0

    def long_input() -> Iterator[RawMessage]:
        nonlocal pulled, most
        for i in range(600):  # copies with their own bytes, so none is a duplicate
            m = base[i % len(base)]
            pulled += 1
            most = max(most, pulled - used)
            yield RawMessage(f"c{i}", m.data + b"\ncopy %d\n" % i, m.label)

    def progress(n: int) -> None:
        nonlocal used
        used += n

    _, details = train_stream(long_input(), small_featurizer, small_settings, OPTS,
                              seed_size=50, chunk_size=20, progress=progress)
    assert pulled == 600
    # Rows pulled but not yet in the seed or learned: never more than the chunk being read.
    assert most <= 20
    assert details["n_seed"] + details["n_streamed"] == 600


def test_a_stream_of_repeats_that_never_fills_the_seed_is_an_error(
        mail_set: Mail, small_featurizer: MessageFeaturizer, small_settings: Settings) -> None:
    pulled = 0

    def endless() -> Iterator[RawMessage]:
        nonlocal pulled
        while True:  # every lap repeats the set: all duplicates after the first
            for m in raw(mail_set):
                pulled += 1
                yield m
                if pulled > 10_000:
                    raise AssertionError("read far past the seed")

    with pytest.raises(TrainingError, match="distinct"):
        train_stream(_bounded(endless(), 2000), small_featurizer, small_settings, OPTS,
                     seed_size=len(mail_set) + 1, chunk_size=10)


def _bounded(it: Iterator[RawMessage], n: int) -> Iterator[RawMessage]:
    for _, m in zip(range(n), it, strict=False):
        yield m


@pytest.mark.parametrize(("n", "seed_size", "match"), [
    pytest.param(0, 10, "no training rows", id="empty"),
    pytest.param(20, 40, "needs 40 distinct training rows, the input has 20", id="seed-too-big"),
    pytest.param(-1, 20, "is all ham: .* must come mixed", id="sorted-by-label"),
])
def test_bad_input_is_a_training_error(mail_set: Mail, small_featurizer: MessageFeaturizer,
                                       small_settings: Settings, n: int, seed_size: int,
                                       match: str) -> None:
    msgs = raw(mail_set)
    msgs = sorted(msgs, key=lambda m: m.label != "ham") if n < 0 else msgs[:n]
    with pytest.raises(TrainingError, match=match):
        train_stream(iter(msgs), small_featurizer, small_settings, OPTS,
                     seed_size=seed_size)
