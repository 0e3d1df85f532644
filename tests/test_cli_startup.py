"""What the ``spamsift`` command imports: nothing a command does not need.

Start-up is most of a one-message ``spamsift classify`` (README, "Speed"): building
the Typer app must not import the daemons, the cluster, the report or the training
libraries, and classifying one message with the bundled model must not import
scikit-learn either. Each check runs in a fresh interpreter and reads its
``sys.modules``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

#: Packages no command needs to start, and none but training and serving need at all.
HEAVY = ("sklearn", "matplotlib", "dask", "distributed", "fastapi", "starlette", "uvicorn",
         "sqlalchemy", "alembic", "psycopg", "pandas", "joblib", "prometheus_client",
         "spamsift.serving.api", "spamsift.serving.spamd", "spamsift.serving.milter",
         "spamsift.training", "spamsift.evaluation", "spamsift.feedback.store")

_REPORT_MODULES = "import json, sys; print(json.dumps(sorted(sys.modules)))"


def _imported(code: str, tmp_path: Path) -> tuple[list[str], str]:
    """The modules loaded once ``code`` has run in a fresh interpreter, and its output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPAMSIFT_")}
    env["SPAMSIFT_DATA_DIR"] = str(tmp_path / "data")  # no registry: the bundled model
    done = subprocess.run([sys.executable, "-c", f"{code}\n{_REPORT_MODULES}"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    *output, modules = done.stdout.strip().splitlines()
    return json.loads(modules), "\n".join(output)


def _heavy(modules: list[str], allowed: tuple[str, ...] = ()) -> list[str]:
    def under(m: str, names: tuple[str, ...]) -> bool:
        return any(m == n or m.startswith(n + ".") for n in names)

    return [m for m in modules if under(m, HEAVY) and not under(m, allowed)
            and m not in ("spamsift.training", "spamsift.evaluation")]


def test_building_the_app_imports_no_command_module(tmp_path: Path):
    modules, _ = _imported("import typer, spamsift.cli\n"
                           "typer.main.get_command(spamsift.cli.app)", tmp_path)
    assert "spamsift.cli" in modules
    assert _heavy(modules) == []
    assert "scipy" not in {m.split(".")[0] for m in modules}


@pytest.mark.parametrize("args", [pytest.param([], id="text"), pytest.param(["--json"], id="json")])
def test_classify_imports_only_what_scoring_needs(tmp_path: Path, args: list[str]):
    msg = tmp_path / "m.eml"
    msg.write_bytes(b"From: Alice <alice@example.org>\nTo: bob@example.org\n"
                    b"Subject: FREE money now!!!\n\nClick here to claim your prize.\n")
    modules, out = _imported(
        "import sys, spamsift.cli\n"
        f"sys.argv = ['spamsift', 'classify', {str(msg)!r}, *{args!r}]\n"
        "try:\n    spamsift.cli.main()\nexcept SystemExit as e:\n    assert not e.code, e.code",
        tmp_path)
    assert str(msg) in out and any(v in out for v in ("spam", "unsure", "ham"))
    assert "spamsift.models.spam_model" in modules  # it did classify
    assert _heavy(modules) == []


def test_score_in_one_process_imports_no_training_library(tmp_path: Path):
    msg = tmp_path / "m.eml"
    msg.write_bytes(b"From: Alice <alice@example.org>\nSubject: Lunch\n\nNoon?\n")
    modules, out = _imported(
        "import sys, spamsift.cli\n"
        f"sys.argv = ['spamsift', 'score', '--input', {str(msg)!r}, '--n-jobs', '1']\n"
        "try:\n    spamsift.cli.main()\nexcept SystemExit as e:\n    assert not e.code, e.code",
        tmp_path)
    assert out.splitlines()[0] == "path,score,verdict" and str(msg) in out
    # Scoring rows and their duplicate keys live in training/; nothing else of it loads.
    assert _heavy(modules, allowed=("spamsift.training.scoring", "spamsift.training.dedup")) == []
