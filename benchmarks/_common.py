"""Shared bits of the benchmarks: corpus location, README table blocks."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT / ".." / "shared" / "corpora" / "spamassassin"
RESULTS = ROOT / "benchmarks" / "results"


def replace_block(name: str, text: str, path: Path = ROOT / "README.md") -> None:
    """Swap the README block between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``."""
    readme = path.read_text()
    pat = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pat.search(readme):
        print(f"README has no {name} block; table left in {RESULTS}")
        return
    path.write_text(pat.sub(lambda m: m.group(1) + text.rstrip() + "\n" + m.group(2), readme))
