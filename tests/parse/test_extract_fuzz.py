"""Fuzzing the extractors: well-formed documents with hostile text, the same mangled,
and arbitrary bytes under a document's type and name.

Each example goes through :func:`extract_attachments` alone (so an exception
would surface, not be hidden by the parse) and through ``parse_message`` and the
bundled model's featurizer inside a message; the bounds of :func:`check_parsed`
hold. Examples are derandomised, as in test_fuzz.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from documents import message_with
from spamsift.config import ParseLimits
from spamsift.features.featurizer import MessageFeaturizer
from spamsift.models.bundled import bundled_model_path
from spamsift.models.persistence import load_model
from spamsift.parse import parse_message
from spamsift.parse.extract import FLAGS as EXTRACT_FLAGS
from spamsift.parse.extract import extract_attachments
from spamsift.parse.extract.images import FLAGS as IMAGE_FLAGS
from strategies import arbitrary_bytes, documents, mangled_documents

from ._checks import check_parsed

FLAGS = EXTRACT_FLAGS | IMAGE_FLAGS

SMALL = ParseLimits(max_extract_chars=300, max_extract_parts=3, max_pdf_pages=2,
                    max_archive_members=2, max_expanded_bytes=20_000)
limits = st.sampled_from([ParseLimits(), SMALL])
_FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_TYPES = st.sampled_from([("a.pdf", "application/pdf"), ("a.docx", "application/vnd."
                          "openxmlformats-officedocument.wordprocessingml.document"),
                          ("a.rtf", "application/rtf"), ("a.zip", "application/zip"),
                          ("a.html", "text/html"), ("a.odt", "application/vnd.oasis."
                                                    "opendocument.text"), ("a", "")])


@pytest.fixture(scope="module")
def featurizer() -> MessageFeaturizer:
    return load_model(bundled_model_path()).featurizer


def check(featurizer: MessageFeaturizer, doc: tuple[str, str, bytes], lim: ParseLimits) -> None:
    name, ctype, data = doc
    flags: set[str] = set()
    parts = extract_attachments([(data, ctype, name)], lim, flags)
    assert flags <= FLAGS | {"truncated:marks"} | {f for f in flags if f.startswith(
        "truncated:html")}, flags
    assert sum(len(p.text) for p in parts) <= lim.max_extract_chars
    m = parse_message(message_with([doc]), lim)
    check_parsed(m, lim)
    X = featurizer.transform_parsed([m])
    assert np.isfinite(X.data).all()


@pytest.mark.usefixtures("hang_guard")
@_FUZZ
@given(doc=documents(), lim=limits)
def test_documents(featurizer: MessageFeaturizer, doc: tuple[str, str, bytes],
                   lim: ParseLimits) -> None:
    check(featurizer, doc, lim)


@pytest.mark.usefixtures("hang_guard")
@_FUZZ
@given(doc=mangled_documents(), lim=limits)
def test_mangled_documents(featurizer: MessageFeaturizer, doc: tuple[str, str, bytes],
                           lim: ParseLimits) -> None:
    check(featurizer, doc, lim)


@pytest.mark.usefixtures("hang_guard")
@_FUZZ
@given(kind=_TYPES, data=arbitrary_bytes, lim=limits)
def test_arbitrary_bytes(featurizer: MessageFeaturizer, kind: tuple[str, str], data: bytes,
                         lim: ParseLimits) -> None:
    check(featurizer, (kind[0], kind[1], data), lim)
