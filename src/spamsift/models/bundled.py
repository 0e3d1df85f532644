"""Where the default model shipped inside the package lives, and loading it."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from spamsift.exceptions import ModelError

if TYPE_CHECKING:
    from spamsift.config import ParseLimits
    from spamsift.models.spam_model import SpamModel

__all__ = ["bundled_model_path", "load_bundled_model"]


def bundled_model_path() -> Path:
    """The default model shipped inside the package (``make bundled-model`` rebuilds it)."""
    return Path(str(resources.files("spamsift") / "data" / "default-model"))


def load_bundled_model(limits: ParseLimits | None = None, *, priors: bool = True
                       ) -> SpamModel:
    """The bundled model, parsing with the site's ``limits`` (default: the defaults) and
    scoring with prior evidence unless ``priors`` is off (``settings.priors``).

    Raises
    ------
    ModelError
        No bundled model is installed.
    """
    from spamsift.models.persistence import load_model

    path = bundled_model_path()
    if not (path / "manifest.json").is_file():
        raise ModelError("no model given and no bundled model installed "
                         f"(expected {path}); run `make bundled-model` or pass --model")
    return load_model(path, limits, priors=priors)
