"""Where the default model shipped inside the package lives."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["bundled_model_path"]


def bundled_model_path() -> Path:
    """The default model shipped inside the package (``make bundled-model`` rebuilds it)."""
    return Path(str(resources.files("spamsift") / "data" / "default-model"))
