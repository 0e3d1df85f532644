"""The container image builds, classifies a message and serves a ready ``/readyz``.

``scripts/build-image.sh`` does the work (podman build, then the exported file system
run with chroot); this runs it and reads its ``key=value`` lines. It takes minutes
(README: Deployment), so it runs only when ``SPAMSIFT_TEST_IMAGE=1`` asks for it, and
then needs root, podman and debootstrap.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from needs import require

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build-image.sh"

pytestmark = pytest.mark.skipif(os.environ.get("SPAMSIFT_TEST_IMAGE") != "1",
                                reason="builds the container image: set SPAMSIFT_TEST_IMAGE=1")


def test_image_builds_classifies_and_serves() -> None:
    require("root", "podman")
    done = subprocess.run([str(SCRIPT), "localhost/spamsift:test"], capture_output=True,
                          text=True, timeout=1800, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    facts = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    assert facts["verdict"] == "spam"
    assert float(facts["ready_s"]) < 60
    # A plain image of spamsift unpacked to about 870 MB; this one, 638 MB before the
    # ocr extra, is 894 MB with it (OpenCV, onnxruntime and the models: 296 MB).
    assert int(facts["size_mb"]) < 950
    assert facts["images"] == "qr:https://qr.example/x,ocr:Verify your account"
