"""spamsift: spam detection that learns from its users.

Raw RFC 822 mail in; a verdict (ham / unsure / spam), a spam probability and the
clues behind it out. The package follows the data's path: ``ingest`` → ``parse``
→ ``features`` → ``models`` → ``training`` / ``evaluation`` → ``serving``.
"""

from importlib.metadata import PackageNotFoundError, version

from spamsift._lazy import lazy_names

try:
    __version__ = version("spamsift")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0+unknown"

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

__getattr__, __dir__ = lazy_names(__name__, _WHERE)
