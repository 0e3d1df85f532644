"""OpenDocument (odt, ods, odp): the text of ``content.xml`` and its links.

All of a document's visible text is inside ``text:p`` and ``text:h`` elements
(spreadsheet cells and slide text boxes hold them too); ``text:s``, ``text:tab``
and ``text:line-break`` stand for spaces, tabs and line ends, and ``text:a`` and
``draw:a`` carry links in ``xlink:href``. Macros (``Basic/`` or ``Scripts/``
members) are flagged ``office:macros``.
"""

from __future__ import annotations

import zipfile

from spamsift.parse.extract.archives import member_chunks
from spamsift.parse.extract.budget import Broken, Budget, Sink
from spamsift.parse.extract.xmltext import XmlRules, read_xml

__all__ = ["extract_odf", "ODF_KINDS"]

ODF_KINDS = ("odt", "ods", "odp")
_RULES = XmlRules(text=frozenset({"p", "h"}), breaks=frozenset({"p", "h"}),
                  space=frozenset({"s"}), links=frozenset({"href"}))


def extract_odf(zf: zipfile.ZipFile, sink: Sink, budget: Budget) -> None:
    """Text and links of an OpenDocument package into ``sink``."""
    if any(i.filename.startswith(("Basic/", "Scripts/")) for i in zf.filelist):
        budget.flag("office:macros")
    try:
        info = zf.getinfo("content.xml")
    except KeyError:
        raise Broken("no content.xml") from None
    read_xml(member_chunks(zf, info, budget), _RULES, sink)
