"""A spamd-compatible daemon: SpamAssassin's SPAMC/SPAMD protocol on spamsift's verdicts.

``spamc``, procmail recipes and Exim's ``spam =`` condition talk to ``spamsift
spamd`` as to SpamAssassin's spamd: ``CHECK``, ``SYMBOLS``, ``REPORT``,
``REPORT_IFSPAM``, ``PROCESS``, ``HEADERS``, ``PING``, ``SKIP`` and ``TELL``
(protocol 1.0 to 1.5). :mod:`~spamsift.serving.spamd.protocol` parses and answers
without I/O, :mod:`~spamsift.serving.score` maps spamsift's probability to a
SpamAssassin score (threshold 5.0 at spamsift's spam cut-off),
:mod:`~spamsift.serving.markup` writes the ``X-Spam-*`` headers and the report,
and :mod:`~spamsift.serving.spamd.server` serves it all over TCP on the same live
service as the REST API (:mod:`spamsift.serving.live`).
"""

from spamsift.serving.score import THRESHOLD, sa_score, shown_score
from spamsift.serving.spamd.protocol import Ex, Request, SpamdError
from spamsift.serving.spamd.server import DEFAULT_PORT, SpamdOptions, SpamdServer, run

__all__ = ["Ex", "Request", "SpamdError", "THRESHOLD", "sa_score", "shown_score",
           "DEFAULT_PORT", "SpamdOptions", "SpamdServer", "run"]
