"""Private chmpx-to-chmpx protocol: JSON lines over the server PORT.

Why: the real wire protocol was not captured; the stand-in only needs
status exchange, forwarded control actions and data requests between
nodes, so one persistent JSON-lines connection per peer is enough.
"""

from __future__ import annotations

import socket
import threading

from tests.standins.dataplane import common


class PeerLink:
    """A persistent, lock-protected request/response link to one peer."""

    def __init__(self, host: str, port: int) -> None:
        self.addr = (host, port)
        self.lock = threading.Lock()
        self.sock: socket.socket | None = None
        self.reader: common.LineReader | None = None

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.reader = None

    def call(self, obj: dict, timeout: float = 2.0) -> dict | None:
        """Send one request; None when the peer is unreachable."""
        with self.lock:
            for attempt in (0, 1):
                try:
                    if self.sock is None:
                        self.sock = socket.create_connection(
                            self.addr, timeout=0.5)
                        self.reader = common.LineReader(self.sock)
                    self.sock.settimeout(timeout)
                    common.send_msg(self.sock, obj)
                    reply = self.reader.read()
                    if reply is None:
                        raise OSError('closed')
                    return reply
                except (OSError, ValueError):
                    self.close()
                    if attempt:
                        return None
            return None
