"""spamsift: spam detection that learns from its users.

Raw RFC 822 mail in; a verdict (ham / unsure / spam), a spam probability and the
clues behind it out. The package follows the data's path: ``ingest`` → ``parse``
→ ``features`` → ``models`` → ``training`` / ``evaluation`` → ``serving``.
"""

from spamsift._lazy import lazy_names

# The names most programs need, imported on first use; each stage's package has more.
_WHERE = {
    "load_model": "spamsift.models.persistence",
    "SpamModel": "spamsift.models.spam_model",
    "Verdict": "spamsift.models.spam_model",
    "SpamClassifier": "spamsift.models.classifier",
    "MessageFeaturizer": "spamsift.features.featurizer",
    "parse_message": "spamsift.parse.mime",
    "ParsedMessage": "spamsift.parse.message",
    "Settings": "spamsift.config",
    "load_settings": "spamsift.config",
    "SpamsiftError": "spamsift.exceptions",
}

__all__ = ["__version__", *_WHERE]

_named, __dir__ = lazy_names(__name__, _WHERE)


def __getattr__(name: str) -> object:
    # __version__ too is read when asked for: the installed metadata cost every command
    # ~10 ms of start-up, and only the spamd and REST front ends show it.
    if name != "__version__":
        return _named(name)
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("spamsift")
    except PackageNotFoundError:  # running from a source tree without install
        found = "0+unknown"
    globals()["__version__"] = found
    return found
