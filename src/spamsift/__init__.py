"""spamsift: spam detection that learns from its users.

Raw RFC 822 mail in; a verdict (ham / unsure / spam), a spam probability and the
clues behind it out. The package follows the data's path: ``ingest`` → ``parse``
→ ``features`` → ``models`` → ``training`` / ``evaluation`` → ``serving``.
"""

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    # Looked up when asked for: reading the installed metadata cost every command
    # ~10 ms of start-up, and only the spamd and REST front ends show it.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("spamsift")
        except PackageNotFoundError:  # running from a source tree without install
            return "0+unknown"
    raise AttributeError(f"module 'spamsift' has no attribute {name!r}")
