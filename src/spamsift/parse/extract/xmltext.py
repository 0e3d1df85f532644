"""The text and links of an XML document, read as a stream, with DTDs refused.

Office Open XML and OpenDocument keep their text in XML inside a zip. The XML is
read by expat in chunks as the zip member is decompressed, so memory holds one
chunk and the text so far, never a tree. A document type declaration is refused
outright (as defusedxml's ``forbid_dtd``): without one no entity can be declared,
so there is no entity expansion (billion laughs) and no external entity to fetch,
and an undeclared entity is an error. Neither format needs a DTD; one is flagged
(``extract:xml_dtd``) and the part is broken.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from xml.parsers import expat

from spamsift.parse.extract.budget import Broken, Sink

__all__ = ["XmlRules", "read_xml"]


@dataclass(frozen=True)
class XmlRules:
    """Which elements (by local name, namespace prefix dropped) hold what.

    ``text``: elements whose character data is text (and that of their
    descendants); ``url_text``: elements whose character data is searched for URLs
    only (Word's field codes); ``breaks``: elements after which a line ends;
    ``tab``/``space``/``newline``: empty elements that stand for those characters;
    ``links``: attributes (by local name) holding a link target; ``relationships``:
    read ``Relationship`` elements' external targets as links.
    """

    text: frozenset[str]
    breaks: frozenset[str] = frozenset()
    url_text: frozenset[str] = frozenset()
    tab: frozenset[str] = frozenset({"tab"})
    space: frozenset[str] = frozenset()
    newline: frozenset[str] = frozenset({"br", "cr", "line-break"})
    links: frozenset[str] = field(default_factory=frozenset)
    relationships: bool = False


class _Refused(Exception):
    pass


def _local(name: str) -> str:
    return name.rpartition(":")[2]


def read_xml(chunks: Iterable[bytes], rules: XmlRules, sink: Sink) -> None:
    """Feed ``chunks`` of one XML document to expat, writing text and links to ``sink``.

    Stops early once the sink's budget is spent. Raises :class:`Broken` for
    malformed XML or a DTD (the text read before it is kept).
    """
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    in_text = 0
    in_url = 0
    pending: list[str] = []  # text of the current line, handed to the sink in batches
    size = 0
    budget = sink.budget

    def flush() -> bool:
        nonlocal size
        if not pending:
            return True
        text = "".join(pending)
        pending.clear()
        size = 0
        return sink.text(text)

    def emit(s: str) -> None:
        nonlocal size
        pending.append(s)
        size += len(s)
        if size > 4096:
            flush()

    def refuse(*_: object) -> None:
        budget.flag("extract:xml_dtd")
        raise _Refused("document type declaration")

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal in_text, in_url
        local = _local(name)
        if local in rules.text:
            in_text += 1
        elif local in rules.url_text:
            in_url += 1
        if in_text:
            if local in rules.tab:
                emit("\t")
            elif local in rules.newline:
                emit("\n")
            elif local in rules.space:
                emit(" " * min(_int(attrs.get("text:c", "1")), 100))
        if rules.links:
            for key, value in attrs.items():
                if _local(key) in rules.links:
                    sink.link(value)
        if rules.relationships and local == "Relationship" \
                and attrs.get("TargetMode", "").lower() == "external":
            sink.link(attrs.get("Target", ""))

    def end(name: str) -> None:
        nonlocal in_text, in_url
        local = _local(name)
        if local in rules.text:
            in_text = max(in_text - 1, 0)
        elif local in rules.url_text:
            in_url = max(in_url - 1, 0)
        if local in rules.breaks:
            emit("\n")

    def data(s: str) -> None:
        if in_text:
            emit(s)
        elif in_url:
            sink.url_text(s)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    parser.buffer_text = True
    try:
        for chunk in chunks:
            parser.Parse(chunk, False)
            if not flush():
                return
        parser.Parse(b"", True)
    except (expat.ExpatError, _Refused) as exc:
        raise Broken(str(exc)) from None
    finally:
        flush()


def _int(s: str) -> int:
    try:
        return max(int(s), 1)
    except ValueError:
        return 1
