"""spamsift: spam detection that learns from its users.

Raw RFC 822 mail in; a verdict (ham / unsure / spam), a spam probability and the
clues behind it out. The package follows the data's path: ``ingest`` → ``parse``
→ ``features`` → ``models`` → ``training`` / ``evaluation`` → ``serving``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("spamsift")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0+unknown"

__all__ = ["__version__"]
