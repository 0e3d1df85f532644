"""``spamsift milter`` subprocesses on loopback, for the tests of this folder.

The milter needs pymilter (the ``milter`` extra, built against Debian's
libmilter-dev): the tests that run it are marked ``needs("pymilter")``
(``tests/needs.py``); ``make test`` builds the extra when libmilter-dev is installed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MilterDaemon:
    """One ``spamsift milter --host 127.0.0.1 --port P --data-dir DIR`` subprocess."""

    def __init__(self, data_dir: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        # No DNS checks unless asked: verdicts are compared with the model alone
        # (authentication at the doors: tests/mailauth/test_doors.py).
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("SPAMSIFT_")},
               "SPAMSIFT_AUTH_VERIFY": "never", **(env or {})}
        self.log = data_dir.parent / f"milter-{self.port}.log"
        self._log = open(self.log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "spamsift.cli", "milter", "--host", "127.0.0.1",
             "--port", str(self.port), "--data-dir", str(data_dir), *args],
            env=env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while b"milter on inet:" not in self.log.read_bytes() or not self._accepts():
            assert self.proc.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "spamsift milter did not listen in 60 s"
            time.sleep(0.1)

    def _accepts(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def stop(self) -> int:
        self.proc.terminate()
        try:
            return self.proc.wait(20)
        finally:
            self._log.close()
