"""A milter for Postfix and Sendmail: spamsift's verdict in the SMTP transaction.

``spamsift milter`` speaks Sendmail's milter protocol through libmilter (pymilter),
on the same live service as the REST API and ``spamsift spamd``: it adds spamd's
``X-Spam-*`` / ``X-Spamsift-*`` headers and, above configurable cut-offs,
quarantines or rejects. :mod:`~spamsift.serving.milter.message` rebuilds the
message from the MTA's callbacks, :mod:`~spamsift.serving.milter.policy` decides
what to do with a verdict, :mod:`~spamsift.serving.milter.server` is the daemon
(imported on its own: it needs pymilter, the ``milter`` extra).
"""

from spamsift.serving.milter.message import MessageBuffer
from spamsift.serving.milter.policy import Action, MilterOptions, decide

__all__ = ["Action", "MilterOptions", "decide", "MessageBuffer"]
