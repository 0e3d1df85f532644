"""Where mail comes from: streams of :class:`RawMessage` read from a single file or stdin,
a directory tree, an mbox, a Maildir, a labelled index CSV, ``spam/``/``ham/`` folders, or
a CSV/JSON Lines text dataset. Every reader is a generator holding one message at a time
(never a whole mailbox or folder), cuts any message at ``max_bytes`` and flags it
``truncated``, and records each item it skips, with why, in an :class:`IngestReport`;
:func:`open_source` tells the kind of a path and picks the reader.
"""

from spamsift.ingest.datasets import read_text_dataset, synthetic_message
from spamsift.ingest.detect import KINDS, detect_kind
from spamsift.ingest.files import read_directory, read_file, read_stdin
from spamsift.ingest.folders import read_labelled_folders
from spamsift.ingest.index import read_index
from spamsift.ingest.labels import normalise_label
from spamsift.ingest.limits import DEFAULT_MAX_BYTES
from spamsift.ingest.maildir import read_maildir
from spamsift.ingest.mbox import read_mbox
from spamsift.ingest.message import LABELS, RawMessage
from spamsift.ingest.report import IngestReport, Skipped
from spamsift.ingest.sources import open_source

__all__ = [
    "RawMessage",
    "LABELS",
    "IngestReport",
    "Skipped",
    "DEFAULT_MAX_BYTES",
    "KINDS",
    "open_source",
    "detect_kind",
    "read_file",
    "read_stdin",
    "read_directory",
    "read_mbox",
    "read_maildir",
    "read_index",
    "read_labelled_folders",
    "read_text_dataset",
    "synthetic_message",
    "normalise_label",
]
