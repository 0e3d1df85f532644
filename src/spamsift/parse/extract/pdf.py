"""PDF: the text of the first pages and the targets of their links (pypdf).

pypdf is pure Python, so a crafted file costs time rather than crashing
anything; measured here on crafted files (``benchmarks/extract.py``):

- a content stream of 300,000 text operators (13 KiB compressed): 28 s for its one
  page. Bounded by ``stream_parsing_work_maximum_count`` (a page past it gives no
  text) and, whatever the construction, by the message's deadline
  (:mod:`~spamsift.parse.extract.deadline`);
- a 270 KiB stream that inflates to 180 MB: stopped by ``zlib_maximum_output_length``
  at the first page in 15 ms;
- 100,000 pages: 8.7 s for pypdf to list them before the first is read. The page
  tree is walked here instead, lazily, to the first ``max_pdf_pages`` pages;
- arrays nested 100,000 deep, and page trees 5,000 deep: refused at once (broken,
  and pypdf's page-tree depth limit; our walk stops at 32 levels).

Encrypted files are flagged ``pdf:encrypted``; one that opens with the empty
password (many do: the "encryption" only forbids copying or printing) is read,
given the ``cryptography`` package for AES; one that does not is flagged
``pdf:locked``. JavaScript, launch actions and embedded files are flagged
(``pdf:javascript``, ``pdf:launch``, ``pdf:embedded_file``) from their names in the
file's bytes (names hidden in compressed object streams are not seen).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from spamsift.parse.extract.budget import Broken, Budget, Sink

if TYPE_CHECKING:
    import pypdf

__all__ = ["extract_pdf"]

# A hostile PDF makes pypdf log a warning per broken object; each is flagged or
# counted here instead of filling a daemon's log.
logging.getLogger("pypdf").setLevel(logging.ERROR)

# pypdf's limits for one file. The 75 MB defaults let a 200 KiB message inflate to
# 75 MB per stream; 4 MiB is ~40x the largest content stream of an ordinary text
# page. Tokens per content stream: a dense text page has 2,000-20,000; 200,000
# took 0.47 s here. No jbig2dec subprocess: images are not read.
_CONFIG = dict(
    maximum_declared_stream_length=4 << 20,
    array_based_stream_maximum_output_length=4 << 20,
    zlib_maximum_output_length=4 << 20,
    zlib_maximum_recovery_input_length=64 << 10,
    lzw_maximum_output_length=4 << 20,
    run_length_maximum_output_length=4 << 20,
    brotli_maximum_output_length=4 << 20,
    image_maximum_buffer_size=4 << 20,
    stream_decoding_work_maximum_length=16 << 20,
    stream_parsing_work_maximum_count=200_000,
    xform_maximum_invocations_per_extraction=100,
    page_tree_maximum_depth=32,
    jbig2dec_binary=None,
    disable_legacy_handling=True,
)
_INHERITED = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")
_MAX_TREE_DEPTH = 32
# Page-tree nodes visited at most (a tree of empty /Pages nodes has no pages to find).
_MAX_TREE_NODES = 2_000
_ACTIVE = ((b"/JavaScript", "pdf:javascript"), (b"/JS", "pdf:javascript"),
           (b"/Launch", "pdf:launch"), (b"/EmbeddedFile", "pdf:embedded_file"))


def extract_pdf(content: bytes, sink: Sink, budget: Budget) -> None:
    """Text and link targets of the first ``max_pdf_pages`` pages into ``sink``."""
    import pypdf  # 0.15 s to import: paid by the first PDF, not by every process

    for name, flag in _ACTIVE:
        if name in content:
            budget.flag(flag)
    with pypdf.apply_configuration(**_CONFIG):  # type: ignore[arg-type]
        try:
            reader = pypdf.PdfReader(io.BytesIO(content), strict=False)
            if reader.is_encrypted:
                budget.flag("pdf:encrypted")
                if not _opens_without_password(reader):
                    budget.flag("pdf:locked")
                    return
            pages = _pages(reader, budget)
        except Exception as exc:  # whatever pypdf raises on a hostile file
            raise Broken(f"{type(exc).__name__}: {exc}") from None
        while True:
            try:
                page = next(pages)
            except StopIteration:
                break
            except Exception as exc:
                _page_error(exc, budget)
                break
            for url in _links(page):
                sink.link(url)
            try:
                text = page.extract_text()
            except Exception as exc:  # one bad page: the others still count
                _page_error(exc, budget)
                continue
            if not sink.text(text + "\n"):
                break


def _page_error(exc: Exception, budget: Budget) -> None:
    from pypdf.errors import LimitReachedError

    # A page past one of pypdf's limits above is hostile or huge, not broken.
    budget.flag("truncated:pdf_limits" if isinstance(exc, LimitReachedError)
                else "extract:broken:pdf")


def _opens_without_password(reader: pypdf.PdfReader) -> bool:
    try:
        return bool(reader.decrypt(""))
    except Exception:  # AES without the cryptography package, a broken dictionary
        return False


def _pages(reader: pypdf.PdfReader, budget: Budget) -> Iterator[Any]:
    """The first ``max_pdf_pages`` pages, walking the page tree depth first.

    pypdf's own ``reader.pages`` flattens the whole tree first (8.7 s for 100,000
    pages); this stops at the pages it needs. Attributes a page inherits from its
    ancestors (resources, boxes, rotation) are copied onto it, as pypdf does.
    """
    from pypdf import PageObject
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    limit = budget.limits.max_pdf_pages
    root = reader.root_object.get("/Pages")
    stack: list[tuple[object, dict[str, object], int]] = [(root, {}, 0)]
    seen: set[tuple[int, int]] = set()
    n_pages = n_nodes = 0
    while stack:
        ref, inherit, depth = stack.pop()
        n_nodes += 1
        if n_pages >= limit or n_nodes > _MAX_TREE_NODES:
            budget.flag("truncated:pdf_pages")
            return
        if isinstance(ref, IndirectObject):
            key = (ref.idnum, ref.generation)
            if key in seen:  # a cycle, or a page listed twice
                continue
            seen.add(key)
        node = ref.get_object() if isinstance(ref, IndirectObject) else ref
        if not isinstance(node, DictionaryObject):
            continue
        kids = node.get("/Kids")
        if node.get("/Type") != "/Page" and kids is not None:
            if depth >= _MAX_TREE_DEPTH:
                budget.flag("truncated:pdf_pages")
                continue
            kids = kids.get_object()
            if not isinstance(kids, ArrayObject):
                continue
            inherited = {**inherit, **{k: node[k] for k in _INHERITED if k in node}}
            # Enough kids for the pages still wanted, were each a page; the rest unread.
            wanted = list(kids[: 4 * limit])
            stack.extend((k, inherited, depth + 1) for k in reversed(wanted))
            continue
        page = PageObject(reader, ref if isinstance(ref, IndirectObject) else None)
        if not isinstance(ref, IndirectObject):
            page.update(node)
        for k, v in inherit.items():
            if k not in page:
                page[NameObject(k)] = v  # type: ignore[assignment]
        n_pages += 1
        yield page


def _links(page: Any) -> Iterator[str]:
    """URI targets of the page's link annotations."""
    from pypdf.generic import ArrayObject, DictionaryObject

    try:
        annots = page.get("/Annots")
        annots = annots.get_object() if annots is not None else None
        if not isinstance(annots, ArrayObject):
            return
        for a in annots[:200]:
            a = a.get_object()
            if not isinstance(a, DictionaryObject):
                continue
            action = a.get("/A")
            action = action.get_object() if action is not None else None
            if isinstance(action, DictionaryObject):
                uri = action.get("/URI")
                if uri is not None:
                    uri = uri.get_object()
                    yield uri.decode("latin-1") if isinstance(uri, bytes) else str(uri)
    except Exception:  # a broken annotation list: the page's text still counts
        return
