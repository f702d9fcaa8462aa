"""Client of a chmpx control port (CTLPORT).

The protocol (tests/data/reference/README.md §4): connect, send one line
``<COMMAND>[ <arg>]\\n``, read until chmpx closes the connection; one
command per connection.  A status query is answered within milliseconds,
so a peer that stays open past the short ``timeout`` is treated as hung.
A state-changing command can take much longer: real chmpx answered MERGE
on a purging node after more than 5 s (doc/ring-procedures.md §8), so
commands get their own, longer ``command_timeout``.  Nothing is waited on
forever.

The client is stateless apart from its address and limits, cheap to build,
and safe to share between threads (each call opens its own socket).
"""

from __future__ import annotations

from collections.abc import Callable
import re
import socket
import time
from typing import TypeVar

from oslo_log import log as logging

from trove_k2hdkc.chmpx import replies
from trove_k2hdkc.chmpx import status
from trove_k2hdkc.chmpx.errors import ControlPortTimeout
from trove_k2hdkc.chmpx.errors import ControlPortUnavailable
from trove_k2hdkc.chmpx.errors import UnexpectedReply

LOG = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 5.0
DEFAULT_COMMAND_TIMEOUT = 60.0
#: A DUMP of a 3-node ring is ~13 KB; 4 MiB leaves room for 256 nodes
#: while bounding what a misbehaving peer can make us buffer.
DEFAULT_MAX_REPLY_BYTES = 4 * 1024 * 1024

_COMMAND_RE = re.compile(r'^[A-Za-z]+$')
# One token of printable ASCII: anything else could smuggle a second line.
_ARG_RE = re.compile(r'^[\x21-\x7e]+$')
# SERVICEOUT fields are ':'-separated, so a field must not hold one.
_FIELD_RE = re.compile(r'^[\x21-\x39\x3b-\x7e]+$')

T = TypeVar('T')


class ControlPortClient:
    """Talks to one chmpx control port.

    :param host: address of the chmpx (its control port listens on all
        addresses; chmpx only accepts hosts listed in its INI).
    :param port: the control port (CTLPORT of that node).
    :param timeout: seconds for a whole status exchange (connect, send,
        read), and for connecting with a command.
    :param command_timeout: seconds to wait for the reply of a
        state-changing command once it is sent.
    :param max_reply_bytes: a longer reply raises ``UnexpectedReply``.

    Every method raises ``ControlPortTimeout``, ``ControlPortUnavailable``
    (refused/reset: chmpx is not running), ``UnexpectedReply``; the
    state-changing ones also ``CommandRejected`` (an ``ERROR:`` reply).
    A command whose reply did not come in time may still have taken
    effect: callers of MERGE, COMPMERGE and ABORTMERGE judge by the node
    status (doc/ring-procedures.md §8).
    """

    def __init__(self, host: str, port: int, *,
                 timeout: float = DEFAULT_TIMEOUT,
                 command_timeout: float = DEFAULT_COMMAND_TIMEOUT,
                 max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES) -> None:
        if not 0 < port < 65536:
            raise ValueError(f'invalid control port {port!r}')
        if timeout <= 0 or command_timeout <= 0:
            raise ValueError('timeouts must be positive')
        self.host = host
        self.port = port
        self.timeout = timeout
        self.command_timeout = command_timeout
        self.max_reply_bytes = max_reply_bytes

    def __repr__(self) -> str:
        return f'ControlPortClient({self.host!r}, {self.port})'

    # -- raw exchange -----------------------------------------------------

    def send(self, command: str, arg: str | None = None, *,
             reply_timeout: float | None = None) -> str:
        """Send one command and return the whole reply text, unparsed.

        ``command`` is a bare word, ``arg`` one token without whitespace;
        ``reply_timeout`` bounds the wait for the reply once the request
        is sent (default: ``timeout`` for the whole exchange).
        """
        if not _COMMAND_RE.match(command):
            raise ValueError(f'invalid chmpx command {command!r}')
        if arg is not None and not _ARG_RE.match(arg):
            raise ValueError(f'invalid argument for {command}: {arg!r}')
        line = command if arg is None else f'{command} {arg}'
        data = self._exchange((line + '\n').encode('ascii'), command,
                              reply_timeout)
        return data.decode('utf-8', errors='replace')

    def _ctx(self, command: str) -> dict:
        return {'host': self.host, 'port': self.port, 'command': command}

    def _exchange(self, payload: bytes, command: str,
                  reply_timeout: float | None) -> bytes:
        ctx = self._ctx(command)
        deadline = time.monotonic() + self.timeout
        try:
            sock = socket.create_connection((self.host, self.port),
                                            timeout=self.timeout)
        except TimeoutError as exc:
            raise ControlPortTimeout('connect timed out', **ctx) from exc
        except ConnectionRefusedError as exc:
            raise ControlPortUnavailable('connection refused',
                                         **ctx) from exc
        except OSError as exc:
            raise ControlPortUnavailable(f'cannot connect: {exc}',
                                         **ctx) from exc
        with sock:
            try:
                sock.sendall(payload)
            except TimeoutError as exc:
                raise ControlPortTimeout('send timed out', **ctx) from exc
            except OSError as exc:
                raise ControlPortUnavailable(f'connection failed: {exc}',
                                             **ctx) from exc
            if reply_timeout is not None:
                deadline = time.monotonic() + reply_timeout
            try:
                data = self._read_until_close(sock, deadline, ctx)
            except TimeoutError as exc:
                waited = (self.timeout if reply_timeout is None
                          else reply_timeout)
                raise ControlPortTimeout(
                    f'no complete reply within {waited}s', **ctx) from exc
            except OSError as exc:
                raise ControlPortUnavailable(f'connection failed: {exc}',
                                             **ctx) from exc
        LOG.debug('chmpx %s:%s %s -> %d bytes', self.host, self.port,
                  command, len(data))
        return data

    def _read_until_close(self, sock: socket.socket, deadline: float,
                          ctx: dict) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError('deadline passed')
            sock.settimeout(remaining)
            chunk = sock.recv(65536)
            if not chunk:
                return b''.join(chunks)
            size += len(chunk)
            if size > self.max_reply_bytes:
                raise UnexpectedReply(
                    f'reply longer than {self.max_reply_bytes} bytes',
                    b''.join(chunks)[:256].decode('utf-8', 'replace'),
                    **ctx)
            chunks.append(chunk)

    def _parsed(self, command: str, parser: Callable[[str], T]) -> T:
        raw = self.send(command)
        try:
            return parser(raw)
        except UnexpectedReply as exc:
            # Parsers know nothing of the peer; add where it came from.
            raise UnexpectedReply(exc.reason, exc.raw,
                                  **self._ctx(command)) from exc

    def _command(self, command: str,
                 arg: str | None = None) -> replies.CommandResult:
        raw = self.send(command, arg, reply_timeout=self.command_timeout)
        result = replies.classify_reply(raw, **self._ctx(command))
        LOG.debug('chmpx %s:%s %s: %s', self.host, self.port, command,
                  result.reply)
        return result

    # -- reads --------------------------------------------------------------

    def version(self) -> status.Version:
        return self._parsed('VERSION', status.parse_version)

    def self_status(self) -> status.SelfStatus:
        """This node's own status (what the guest reports as health)."""
        return self._parsed('SELFSTATUS', status.parse_self_status)

    def all_status(self) -> status.AllStatus:
        """This node's view of every server of the ring."""
        return self._parsed('ALLSTATUS', status.parse_all_status)

    def dump(self) -> str:
        """The raw internal dump, for diagnostics only (format unstable)."""
        raw = self.send('DUMP')
        if not raw:
            raise UnexpectedReply('empty DUMP reply', raw,
                                  **self._ctx('DUMP'))
        return raw

    # -- state changes --------------------------------------------------

    def update_status(self) -> replies.CommandResult:
        """Re-broadcast this server's status to the ring (repair tool)."""
        return self._command('UPDATESTATUS')

    def service_in(self) -> replies.CommandResult:
        """Ask this server to join the ring (send to its own port)."""
        return self._command('SERVICEIN')

    def service_out(self, server: str, ctlport: int,
                    custom_id_seed: str) -> replies.CommandResult:
        """Take a server out of the ring (CHMPXIDTYPE=CUSTOM format).

        Any ring member accepts it; for a DOWN target it is the only way
        to remove it.  ``result.already_service_out`` is true when the
        target was already out: callers treat that as done.
        """
        for field, value in (('server', server),
                             ('custom_id_seed', custom_id_seed)):
            if not _FIELD_RE.match(value):
                raise ValueError(f'invalid SERVICEOUT {field} {value!r}')
        if not 0 < ctlport < 65536:
            raise ValueError(f'invalid SERVICEOUT ctlport {ctlport!r}')
        return self._command('SERVICEOUT',
                             f'{server}:{ctlport}:{custom_id_seed}')

    def merge(self) -> replies.CommandResult:
        """Start the pending merge on the ring (Pending -> Doing)."""
        return self._command('MERGE')

    def comp_merge(self) -> replies.CommandResult:
        """Complete a merge that is Done on every server."""
        return self._command('COMPMERGE')

    def abort_merge(self) -> replies.CommandResult:
        """Abort a running merge; nodes fall back to Pending."""
        return self._command('ABORTMERGE')

    def suspend_merge(self) -> replies.CommandResult:
        """Ignore AUTOMERGE until NOSUSPENDMERGE or a config reload."""
        return self._command('SUSPENDMERGE')

    def nosuspend_merge(self) -> replies.CommandResult:
        return self._command('NOSUSPENDMERGE')
