"""ControlPortClient against a loopback socket double that replays captures.

The double is a test fixture for the socket layer only (not the chmpx
stand-in): it accepts one connection at a time, records the bytes received
up to the first newline, then replies as told: send the capture bytes and
close (like chmpx), stay silent, or send and keep the connection open;
optionally only after ``delay`` seconds (a slow MERGE).
"""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from trove_k2hdkc.chmpx import status
from trove_k2hdkc.chmpx.ctlport import ControlPortClient
from trove_k2hdkc.chmpx.errors import CommandRejected
from trove_k2hdkc.chmpx.errors import ControlPortTimeout
from trove_k2hdkc.chmpx.errors import ControlPortUnavailable
from trove_k2hdkc.chmpx.errors import UnexpectedReply

SHORT = 0.5


class ReplayServer:
    def __init__(self) -> None:
        self.listener = socket.create_server(('127.0.0.1', 0))
        self.port = self.listener.getsockname()[1]
        self.reply = b''
        self.close_after_reply = True
        self.delay = 0.0
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(2)
            data = b''
            try:
                while not data.endswith(b'\n'):
                    chunk = conn.recv(1024)
                    if not chunk:
                        break
                    data += chunk
                self.received.append(data)
                time.sleep(self.delay)
                conn.sendall(self.reply)
            except OSError:
                pass
            if self.close_after_reply:
                conn.close()
            else:
                self._open.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.listener.close()
        for conn in self._open:
            conn.close()


@pytest.fixture
def server():
    srv = ReplayServer()
    yield srv
    srv.close()


def _client(server, **kw) -> ControlPortClient:
    return ControlPortClient('127.0.0.1', server.port,
                             timeout=kw.pop('timeout', 2.0), **kw)


def _entries(reference_dir, scenario):
    folder = reference_dir / 'chmpx/control_port' / scenario
    for line in (folder / 'index.jsonl').read_text().splitlines():
        entry = json.loads(line)
        yield entry, (folder / entry['file']).read_bytes()


_METHODS = {
    'VERSION': lambda c: c.version(),
    'SELFSTATUS': lambda c: c.self_status(),
    'ALLSTATUS': lambda c: c.all_status(),
    'DUMP': lambda c: c.dump(),
    'UPDATESTATUS': lambda c: c.update_status(),
    'SERVICEIN': lambda c: c.service_in(),
    'MERGE': lambda c: c.merge(),
    'COMPMERGE': lambda c: c.comp_merge(),
    'ABORTMERGE': lambda c: c.abort_merge(),
    'SUSPENDMERGE': lambda c: c.suspend_merge(),
    'NOSUSPENDMERGE': lambda c: c.nosuspend_merge(),
}


@pytest.mark.parametrize('scenario', ['healthy_3nodes',
                                      'scaleout_node4_manual_suspended',
                                      'scalein_node4_manual_abort'])
def test_typed_methods_send_exact_bytes(server, reference_dir, scenario):
    checked = 0
    for entry, reply in _entries(reference_dir, scenario):
        verb = entry['sent'].strip()
        if verb not in _METHODS:
            continue        # lower case, arguments, unknown: elsewhere
        server.reply = reply
        call = _METHODS[verb]
        if reply.startswith((b'ERROR:', b'Unknown')):
            with pytest.raises(CommandRejected) as info:
                call(_client(server))
            assert info.value.reply == reply.decode().rstrip('\n')
        else:
            result = call(_client(server))
            if verb == 'DUMP':
                assert result == reply.decode()
        assert server.received[-1] == entry['sent'].encode()
        checked += 1
    assert checked >= 8


def test_service_out_custom_format_and_already_out(server, reference_dir):
    folder = reference_dir / 'chmpx/control_port/down_node3_after_hup'
    server.reply = (folder / 'node1_SERVICEOUT_down_node.txt').read_bytes()
    result = _client(server).service_out('127.0.0.1', 28025,
                                         'mydkc-server-3.example.net')
    assert result.already_service_out
    assert server.received == [
        b'SERVICEOUT 127.0.0.1:28025:mydkc-server-3.example.net\n']


def test_service_out_rejected(server, reference_dir):
    server.reply = (reference_dir / 'chmpx/control_port/healthy_3nodes/'
                    'node1_SERVICEOUT_unknown_server_3fields.txt'
                    ).read_bytes()
    with pytest.raises(CommandRejected, match='no such as server') as info:
        _client(server).service_out('nosuch.example.net', 9999,
                                    'nosuchseed')
    assert info.value.command == 'SERVICEOUT'


@pytest.mark.parametrize('args', [('a b', 1, 's'), ('h', 1, 'x:y'),
                                  ('h', 0, 's'), ('h', 1, 's\nMERGE')])
def test_service_out_refuses_bad_fields_before_sending(server, args):
    with pytest.raises(ValueError):
        _client(server).service_out(*args)
    assert server.received == []


def test_selfstatus_over_socket(server, reference_dir):
    server.reply = (reference_dir / 'chmpx/control_port/suspend_node3/'
                    'node3_SELFSTATUS.txt').read_bytes()
    parsed = _client(server).self_status()
    assert isinstance(parsed, status.SelfStatus)
    assert parsed.status.code == 0x10021 and parsed.ctlport == 28025


def test_unparsable_reply_keeps_raw_and_peer(server):
    server.reply = b'SUCCEED\n'
    with pytest.raises(UnexpectedReply) as info:
        _client(server).all_status()
    assert info.value.raw == 'SUCCEED\n'
    assert info.value.port == server.port
    assert info.value.command == 'ALLSTATUS'


def test_empty_reply_is_unexpected(server):
    server.reply = b''
    with pytest.raises(UnexpectedReply):
        _client(server).merge()


def test_reply_size_is_bounded(server):
    server.reply = b'x' * 5000
    with pytest.raises(UnexpectedReply, match='longer than 1024'):
        _client(server, max_reply_bytes=1024).dump()


def test_peer_that_never_closes_times_out(server):
    server.reply = b'SUCCEED\n'
    server.close_after_reply = False
    with pytest.raises(ControlPortTimeout):
        _client(server, timeout=SHORT, command_timeout=SHORT).merge()


def test_slow_command_reply_is_waited_for(server):
    """Real chmpx answered MERGE on a purging node after more than 5 s:
    a command reply slower than the status timeout is still a reply."""
    server.reply = b'SUCCEED\n'
    server.delay = 3 * SHORT
    result = _client(server, timeout=SHORT, command_timeout=10).merge()
    assert result.reply == 'SUCCEED'


def test_status_queries_keep_the_short_timeout(server):
    server.reply = b'whatever'
    server.delay = 3 * SHORT
    start = time.monotonic()
    with pytest.raises(ControlPortTimeout):
        _client(server, timeout=SHORT, command_timeout=10).self_status()
    assert time.monotonic() - start < 2 * SHORT


def test_silent_peer_times_out(server):
    server.close_after_reply = False
    with pytest.raises(ControlPortTimeout):
        _client(server, timeout=SHORT).self_status()


def test_refused_connection_is_unavailable():
    # A bound but not listening socket owns the port: connect is refused.
    holder = socket.socket()
    holder.bind(('127.0.0.1', 0))
    try:
        client = ControlPortClient('127.0.0.1', holder.getsockname()[1],
                                   timeout=SHORT)
        with pytest.raises(ControlPortUnavailable, match='refused'):
            client.self_status()
    finally:
        holder.close()
