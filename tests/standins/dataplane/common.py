"""Small helpers shared by the data-plane stand-ins.

Why: every stand-in process needs the same key hash (placement must match
the real FNV-1a 64 over key + NUL), the same rendezvous path between a
chmpx and its local clients, and the same JSON-lines framing.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import sys
import time

FNV_OFFSET = 0xcbf29ce484222325
FNV_PRIME = 0x100000001b3
MASK64 = 0xffffffffffffffff
NOHASH = MASK64

#: Environment variable naming the per-node "shm" directory.  The real
#: binaries have no such option (they use /tmp, made private per node by
#: a mount namespace); tests running several nodes in one namespace set it.
SHMDIR_ENV = 'K2HDKC_STANDIN_SHMDIR'

VERSION_LINE = 'Version 1.0.109 (commit: 8ad99bf) with OpenSSL'


def key_hash(key: bytes) -> int:
    """FNV-1a 64 of the key bytes plus the trailing NUL k2hdkc stores."""
    h = FNV_OFFSET
    for b in key + b'\0':
        h ^= b
        h = (h * FNV_PRIME) & MASK64
    return h


def shmdir() -> str:
    return os.environ.get(SHMDIR_ENV) or '/tmp'


def rendezvous_path(group: str, ctlport: int) -> str:
    """Unix socket where k2hdkc/clients meet their local chmpx."""
    return os.path.join(shmdir(), '%s-%d.chmpx' % (group, ctlport))


def now_us() -> int:
    return time.time_ns() // 1000


def b2s(data: bytes) -> str:
    return data.decode('latin-1')


def s2b(text: str) -> bytes:
    return text.encode('latin-1')


def send_msg(sock: socket.socket, obj: object) -> None:
    sock.sendall(json.dumps(obj, separators=(',', ':')).encode() + b'\n')


class LineReader:
    """Buffered reader of newline-terminated JSON messages."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b''

    def read(self) -> object | None:
        while b'\n' not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b'\n')
        return json.loads(line)


def request(addr, obj: object, timeout: float = 5.0) -> object | None:
    """One request/response exchange on a fresh connection."""
    family = socket.AF_UNIX if isinstance(addr, str) else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(addr)
        send_msg(sock, obj)
        return LineReader(sock).read()


def log(level: str, text: str) -> None:
    sys.stderr.write('[%s] %s\n' % (level, text))
    sys.stderr.flush()


def split_words(line: str) -> list[str]:
    """A line-tool command split like a shell; unbalanced quotes fall
    back to plain whitespace splitting instead of failing."""
    try:
        return shlex.split(line)
    except ValueError:
        return line.split()
