"""Model artifacts: round trips, refusals of foreign or altered files, no unpickling."""

from __future__ import annotations

import hashlib
import io
import json
import pathlib
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from spamsift.exceptions import ModelError, ModelFormatError, ModelIntegrityError
from spamsift.models import artifact
from spamsift.models.artifact import (
    ARRAYS_NAME,
    FORMAT_VERSION,
    MANIFEST_NAME,
    MAX_MANIFEST_BYTES,
    fingerprint,
    load_artifact,
    read_manifest,
    save_artifact,
)

ARRAYS = {
    "coef": np.array([[0.5, -1.25, 3.0]]),
    "intercept": np.array([-0.75]),
    "counts": np.arange(6, dtype=np.int32).reshape(2, 3),
    "flags": np.array([True, False, True]),
    "unsigned": np.array([1, 255], dtype=np.uint8),
    "complex": np.array([1 + 2j]),
    "vocabulary": np.array(["subj:free", "url_host:bit.ly", "from_domain:example.com"]),
    "scalar": np.array(2.5, dtype=np.float32),
    "numpy_scalar": np.int64(7),
    "empty": np.zeros((0, 4)),
    "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    # Names numpy.savez would take for its own arguments.
    "file": np.array([1.0]),
    "allow_pickle": np.array([2.0]),
}
MANIFEST = {
    "model": "multinomial-nb",
    "settings": {"alpha": 1.0, "ngram_range": [1, 2]},
    "training_data": "0" * 64,
    "metrics": {"fn_rate": 0.031, "fp_rate": 0.001, "per_fold": [0.03, 0.032]},
    "thresholds": {"ham": 0.2, "spam": 0.9},
}


class WouldRunCode:
    """Unpickling this touches ``marker``: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    return save_artifact(tmp_path / "model", manifest=MANIFEST, arrays=ARRAYS)


def rewrite_manifest(folder: Path, **changes: object) -> None:
    manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    manifest.update(changes)
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")


def write_hostile_npz(folder: Path, member_bytes: bytes, listed_dtype: str = "<f8") -> None:
    """Replace the arrays with one member and a manifest whose checksum and listing match."""
    with zipfile.ZipFile(folder / ARRAYS_NAME, "w") as zf:
        zf.writestr("coef.npy", member_bytes)
    digest = hashlib.sha256((folder / ARRAYS_NAME).read_bytes()).hexdigest()
    rewrite_manifest(
        folder, arrays_sha256=digest, arrays={"coef": {"shape": [1], "dtype": listed_dtype}}
    )


# --- round trip ---------------------------------------------------------------------


def test_round_trip_keeps_arrays_exactly(saved: Path) -> None:
    _, arrays = load_artifact(saved)
    assert arrays.keys() == ARRAYS.keys()
    for name, expected in ARRAYS.items():
        assert arrays[name].dtype == expected.dtype, name
        assert arrays[name].shape == expected.shape, name
        np.testing.assert_array_equal(arrays[name], expected, err_msg=name)


def test_round_trip_keeps_manifest_and_adds_provenance(saved: Path) -> None:
    manifest, _ = load_artifact(saved)
    for key, value in MANIFEST.items():
        assert manifest[key] == value
    assert manifest["format"] == "spamsift-model"
    assert manifest["format_version"] == FORMAT_VERSION == 1
    assert manifest["created"].endswith("Z")
    assert set(manifest["library_versions"]) == {
        "spamsift",
        "numpy",
        "scipy",
        "scikit-learn",
        "python",
    }
    assert manifest["library_versions"]["numpy"] == np.__version__
    digest = hashlib.sha256((saved / ARRAYS_NAME).read_bytes()).hexdigest()
    assert manifest["arrays_sha256"] == digest
    assert manifest["arrays"]["vocabulary"] == {"shape": [3], "dtype": "<U23"}
    assert manifest["arrays"]["flags"] == {"shape": [3], "dtype": "|b1"}


def test_generated_keys_replace_callers_values(tmp_path: Path) -> None:
    folder = save_artifact(
        tmp_path / "m", manifest={"format_version": 99, "arrays": "mine"}, arrays=ARRAYS
    )
    manifest = read_manifest(folder)
    assert manifest["format_version"] == FORMAT_VERSION
    assert set(manifest["arrays"]) == set(ARRAYS)


def test_same_arrays_give_same_bytes(tmp_path: Path) -> None:
    a = save_artifact(tmp_path / "a", manifest={}, arrays=ARRAYS)
    b = save_artifact(tmp_path / "b", manifest={}, arrays=dict(reversed(ARRAYS.items())))
    assert read_manifest(a)["arrays_sha256"] == read_manifest(b)["arrays_sha256"]


def test_arrays_file_is_a_plain_npz(saved: Path) -> None:
    with np.load(saved / ARRAYS_NAME, allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["coef"], ARRAYS["coef"])


def test_no_arrays_at_all(tmp_path: Path) -> None:
    folder = save_artifact(tmp_path / "m", manifest={}, arrays={})
    assert load_artifact(folder)[1] == {}


# --- saving: refusals and atomicity --------------------------------------------------


@pytest.mark.parametrize(
    ("arrays", "needle"),
    [
        pytest.param({"x": np.array([{"a": 1}], dtype=object)}, "object", id="object"),
        pytest.param({"x": np.array([b"raw"])}, "dtype", id="bytes"),
        pytest.param({"x": np.array(["2026-01-01"], dtype="M8[D]")}, "dtype", id="datetime"),
        pytest.param({"x": np.zeros(2, dtype=[("a", "<f8")])}, "dtype", id="record"),
        pytest.param({"x": [1.0, 2.0]}, "numpy.ndarray", id="list"),
        pytest.param({"../x": np.zeros(1)}, "name", id="path-name"),
        pytest.param({"": np.zeros(1)}, "name", id="empty-name"),
    ],
)
def test_save_refuses_what_the_format_cannot_hold(
    tmp_path: Path, arrays: dict, needle: str
) -> None:
    with pytest.raises(ModelFormatError, match=needle):
        save_artifact(tmp_path / "m", manifest={}, arrays=arrays)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "manifest",
    [
        pytest.param({"when": object()}, id="object"),
        pytest.param({"token": "\udcff"}, id="lone-surrogate"),
    ],
)
def test_save_refuses_unserialisable_manifest_and_leaves_nothing(
    tmp_path: Path, manifest: dict
) -> None:
    with pytest.raises(ModelFormatError, match="JSON"):
        save_artifact(tmp_path / "m", manifest=manifest, arrays=ARRAYS)
    assert list(tmp_path.iterdir()) == []


def test_non_ascii_manifest_round_trips(tmp_path: Path) -> None:
    folder = save_artifact(tmp_path / "m", manifest={"stop": ["caf\u00e9", "\u65e5"]}, arrays={})
    assert read_manifest(folder)["stop"] == ["caf\u00e9", "\u65e5"]


def test_failure_mid_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", broken)
    with pytest.raises(OSError, match="disk full"):
        save_artifact(tmp_path / "m", manifest={}, arrays=ARRAYS)
    assert list(tmp_path.iterdir()) == []


def test_refuses_to_overwrite_unless_asked(saved: Path) -> None:
    with pytest.raises(ModelError, match="overwrite"):
        save_artifact(saved, manifest={"v": 2}, arrays={"a": np.zeros(1)})
    assert read_manifest(saved)["model"] == "multinomial-nb"

    save_artifact(saved, manifest={"v": 2}, arrays={"a": np.zeros(1)}, overwrite=True)
    manifest, arrays = load_artifact(saved)
    assert manifest["v"] == 2
    assert list(arrays) == ["a"]
    assert sorted(p.name for p in saved.parent.iterdir()) == ["model"]  # no temp leftovers


def test_refuses_to_overwrite_a_file(tmp_path: Path) -> None:
    (tmp_path / "m").write_text("notes", encoding="utf-8")
    with pytest.raises(ModelError, match="overwrite"):
        save_artifact(tmp_path / "m", manifest={}, arrays={})


def test_an_empty_directory_counts_as_free(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    save_artifact(tmp_path / "m", manifest={}, arrays=ARRAYS)
    assert load_artifact(tmp_path / "m")[1].keys() == ARRAYS.keys()


def test_creates_missing_parents(tmp_path: Path) -> None:
    folder = save_artifact(tmp_path / "a" / "b" / "m", manifest={}, arrays={})
    assert (folder / MANIFEST_NAME).is_file()


# --- loading: refusals ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "needles"),
    [
        pytest.param(
            {"format_version": 2}, ["format_version 2", "reads format_version 1"], id="newer"
        ),
        pytest.param({"format_version": 0}, ["format_version 0", "1"], id="older"),
        pytest.param({"format_version": "1"}, ["integer format_version", "'1'"], id="string"),
        pytest.param({"format_version": None}, ["integer format_version"], id="missing"),
        pytest.param({"format": "pickle"}, ["spamsift-model", "'pickle'"], id="foreign"),
    ],
)
def test_refuses_unknown_format(saved: Path, changes: dict, needles: list[str]) -> None:
    rewrite_manifest(saved, **changes)
    with pytest.raises(ModelFormatError) as caught:
        load_artifact(saved)
    for needle in needles:
        assert needle in str(caught.value)
    assert MANIFEST_NAME in str(caught.value)


def test_flipped_byte_is_an_integrity_error(saved: Path) -> None:
    data = bytearray((saved / ARRAYS_NAME).read_bytes())
    data[len(data) // 2] ^= 0x01
    (saved / ARRAYS_NAME).write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="sha256"):
        load_artifact(saved)


def test_object_array_is_refused_without_running_code(saved: Path, tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    payload = np.array([WouldRunCode(marker)], dtype=object)
    member = io.BytesIO()
    np.save(member, payload, allow_pickle=True)

    # Control: the payload does run code when numpy is allowed to unpickle it.
    np.load(io.BytesIO(member.getvalue()), allow_pickle=True)
    assert marker.exists()
    marker.unlink()

    for listed in ("<f8", "|O"):  # a lying listing reaches numpy; an honest one stops before
        write_hostile_npz(saved, member.getvalue(), listed_dtype=listed)
        with pytest.raises(ModelFormatError, match=ARRAYS_NAME if listed == "<f8" else "dtype"):
            load_artifact(saved)
        assert not marker.exists()


def test_a_bare_pickle_is_refused_without_running_code(saved: Path, tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    (saved / ARRAYS_NAME).write_bytes(pickle.dumps(WouldRunCode(marker)))
    digest = hashlib.sha256((saved / ARRAYS_NAME).read_bytes()).hexdigest()
    rewrite_manifest(saved, arrays_sha256=digest)
    with pytest.raises(ModelFormatError, match="zip"):
        load_artifact(saved)
    assert not marker.exists()


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('{"format": "spamsift-model",', id="truncated"),
        pytest.param("[1, 2]", id="not-an-object"),
        pytest.param("", id="empty"),
        pytest.param("[" * 100_000, id="deep-nesting"),
    ],
)
def test_malformed_manifest(saved: Path, text: str) -> None:
    (saved / MANIFEST_NAME).write_text(text, encoding="utf-8")
    with pytest.raises(ModelFormatError, match=MANIFEST_NAME):
        load_artifact(saved)


def test_manifest_that_is_not_utf8(saved: Path) -> None:
    (saved / MANIFEST_NAME).write_bytes(b'{"format": "\xff"}')
    with pytest.raises(ModelFormatError, match="UTF-8"):
        load_artifact(saved)


def test_oversized_manifest_is_refused_before_reading(saved: Path) -> None:
    with open(saved / MANIFEST_NAME, "r+b") as fh:
        fh.truncate(MAX_MANIFEST_BYTES + 1)  # sparse: cheap to make
    with pytest.raises(ModelFormatError, match="limit"):
        read_manifest(saved)


@pytest.mark.parametrize("name", [MANIFEST_NAME, ARRAYS_NAME])
def test_missing_file_is_named(saved: Path, name: str) -> None:
    (saved / name).unlink()
    with pytest.raises(ModelFormatError, match=f"{name} is missing"):
        load_artifact(saved)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelFormatError, match="found nothing"):
        load_artifact(tmp_path / "nowhere")


def test_array_missing_from_listing(saved: Path) -> None:
    manifest = read_manifest(saved)
    del manifest["arrays"]["coef"]
    rewrite_manifest(saved, arrays=manifest["arrays"])
    with pytest.raises(ModelFormatError, match=r"does not list: \['coef'\]"):
        load_artifact(saved)


def test_listed_array_missing_from_file(saved: Path) -> None:
    manifest = read_manifest(saved)
    manifest["arrays"]["ghost"] = {"shape": [1], "dtype": "<f8"}
    rewrite_manifest(saved, arrays=manifest["arrays"])
    with pytest.raises(ModelFormatError, match=r"lacks arrays the manifest lists: \['ghost'\]"):
        load_artifact(saved)


def test_listing_that_disagrees_with_the_file(saved: Path) -> None:
    manifest = read_manifest(saved)
    manifest["arrays"]["coef"]["shape"] = [3, 1]
    rewrite_manifest(saved, arrays=manifest["arrays"])
    with pytest.raises(ModelFormatError, match="shape"):
        load_artifact(saved)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"arrays_sha256": "abc"}, id="short-sha"),
        pytest.param({"arrays": None}, id="no-listing"),
        pytest.param({"arrays": {"coef": {"shape": [-1], "dtype": "<f8"}}}, id="negative-shape"),
        pytest.param({"arrays": {"coef": "<f8"}}, id="not-an-entry"),
    ],
)
def test_malformed_listing(saved: Path, changes: dict) -> None:
    rewrite_manifest(saved, **changes)
    with pytest.raises(ModelFormatError, match=MANIFEST_NAME):
        load_artifact(saved)


# --- fingerprint ----------------------------------------------------------------------


def test_fingerprint_ignores_order_and_treats_str_as_utf8() -> None:
    a = fingerprint([("ham/1", b"hello"), ("spam/2", "caf\u00e9")])
    b = fingerprint([("spam/2", "caf\u00e9".encode()), ("ham/1", "hello")])
    assert a == b
    assert len(a) == 64


@pytest.mark.parametrize(
    "other",
    [
        pytest.param([("ham/1", b"hello!"), ("spam/2", b"x")], id="edited"),
        pytest.param([("ham/1", b"hello")], id="removed"),
        pytest.param([("ham/1", b"hello"), ("ham/2", b"x")], id="relabelled"),
        pytest.param([("ham/1", b"hello"), ("spam/2", b"x"), ("spam/2", b"x")], id="repeated"),
        pytest.param([("ham/1hello", b""), ("spam/2", b"x")], id="id-content-boundary"),
    ],
)
def test_fingerprint_changes_with_the_data(other: list) -> None:
    assert fingerprint([("ham/1", b"hello"), ("spam/2", b"x")]) != fingerprint(other)


def test_fingerprint_rejects_wrong_types() -> None:
    with pytest.raises(TypeError, match="str id"):
        fingerprint([(1, b"x")])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="bytes or str content"):
        fingerprint([("a", 1)])  # type: ignore[list-item]


def test_module_exports() -> None:
    assert set(artifact.__all__) >= {"save_artifact", "load_artifact", "fingerprint"}
