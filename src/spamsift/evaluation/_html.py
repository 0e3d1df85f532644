"""Small HTML builders for the report. Every value passes through :func:`esc`.

Subjects, sources and clues come from mail, which is hostile input: escaping is the
defence, and the page's Content-Security-Policy (no scripts, images only as data URIs)
is a second one in case a value ever slips through unescaped.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from numbers import Integral, Real
from typing import Any

__all__ = ["esc", "num", "rate", "table", "page"]

# C0 controls other than tab and newlines are not allowed in HTML text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def esc(value: Any) -> str:
    """``value`` as text safe between tags and inside quoted attributes."""
    text = str(value)
    # Headers decoded with surrogateescape may carry lone surrogates, which UTF-8 refuses.
    text = text.encode("utf-8", "replace").decode("utf-8")
    return html.escape(_CONTROL.sub("\ufffd", text), quote=True)


def num(value: Any) -> str:
    """A count with thousands separators, a float to 4 significant digits, None as n/a."""
    if value is None or (isinstance(value, Real) and math.isnan(value)):
        return '<span class="na">n/a</span>'
    if isinstance(value, bool):
        return esc(value)
    if isinstance(value, Integral):
        return f"{int(value):,}"
    if isinstance(value, Real):
        return f"{float(value):.4g}"
    return esc(value)


def rate(value: Any) -> str:
    """A share in [0, 1] as a percentage to 3 significant digits."""
    if value is None or (isinstance(value, Real) and math.isnan(value)):
        return '<span class="na">n/a</span>'
    return f"{100 * float(value):.3g}%"


def table(head: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "") -> str:
    """A table with plain-text headings and cells that are already HTML (escape them first)."""
    th = "".join(f"<th>{esc(h)}</th>" for h in head)
    body = "\n".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}>\n<thead><tr>{th}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


_CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
       margin: 0; background: #fafafa; }
main { max-width: 1180px; margin: 0 auto; padding: 1.5rem 2rem 4rem; background: #fff; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.4rem; border-bottom: 1px solid #ddd; }
nav a { margin-right: 1rem; } .lede { color: #555; }
table { border-collapse: collapse; margin: .6rem 0; }
th, td { border: 1px solid #ddd; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.n, table.num td { text-align: right; font-variant-numeric: tabular-nums; }
table.num td:first-child { text-align: left; }
.note { color: #666; font-size: .9em; } .na { color: #999; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 1rem; }
figure { margin: 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .9em; color: #555; }
.mail { unicode-bidi: isolate; overflow-wrap: anywhere; max-width: 30rem; }
.clue { display: inline-block; margin: 0 .4rem .2rem 0; padding: 0 .3rem;
        background: #f4f4f4; border-radius: 3px; font-size: .85em; }
.clue code { unicode-bidi: isolate; overflow-wrap: anywhere; }
.ok { background: #e6f4ea; } .bad { background: #fbe3d6; } .mid { background: #fff4cc; }
.verdict { display: inline-block; padding: .1rem .6rem; border-radius: 1rem;
           background: #fff4cc; font-weight: 600; }
"""

# No scripts, no fetches: images only as data URIs and the inline stylesheet above.
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def page(title: str, body: str) -> str:
    """A complete, self-contained HTML document."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )
