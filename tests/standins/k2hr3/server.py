"""The HTTP(S) server: ``K2hr3StandIn`` (see k2hr3_standin_iface.md).

Stdlib only.  Besides the API it offers failure injection (``fail_next``,
``drop_next``) and inspection (``requests``, ``snapshot``) for tests.
Like the real API (Express ``trust proxy = loopback``) the source IP of a
loopback peer is taken from ``X-Forwarded-For``, so a test can act as
several VMs.
"""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
import ipaddress
import json
import socket
import ssl
import threading
import time
from typing import Any
import urllib.parse

from tests.standins.dataplane import faults
from tests.standins.k2hr3 import routing
from tests.standins.k2hr3.http_types import ApiError
from tests.standins.k2hr3.http_types import Reply
from tests.standins.k2hr3.http_types import Request
from tests.standins.k2hr3.http_types import compact
from tests.standins.k2hr3.store import State

THREAD_PREFIX = 'k2hr3-standin'
CONTENT_TYPE = 'application/json; charset=utf-8'


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _strip_mapped(address: str) -> str:
    return address[7:] if address.lower().startswith('::ffff:') else address


def source_ip(peer: str, forwarded: str | None) -> str:
    """The caller's address as Express computes it with loopback trust."""
    peer = _strip_mapped(peer)
    if not forwarded or not _loopback(peer):
        return peer
    chain = [_strip_mapped(a.strip()) for a in forwarded.split(',')
             if a.strip()]
    for address in reversed(chain):
        if not _loopback(address):
            return address
    return chain[0] if chain else peer


def _file_fault(method: str, path: str) -> tuple | None:
    """A fault asked for through the data-plane faults file (the rig's
    way to reach this process): ``('fail', status)``, or None after
    holding the request for a ``k2hr3_hang``."""
    event = {'method': method, 'path': path.split('?')[0]}
    fail = faults.take('k2hr3_fail', lambda f: True, event)
    if fail is not None:
        return ('fail', int(fail.get('status', 503)))
    hang = faults.take('k2hr3_hang', lambda f: True, event)
    if hang is not None:
        time.sleep(float(hang.get('seconds', 60)))
    return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'k2hr3-standin'
    sys_version = ''
    timeout = 60
    wbufsize = -1          # one write per reply (flushed by http.server)

    def setup(self) -> None:
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP,
                                       socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests inspect ``requests`` instead."""

    def do_GET(self) -> None:
        self._handle()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _read_body(self) -> bytes:
        if 'chunked' in self.headers.get('transfer-encoding', '').lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b';')[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return b''.join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get('content-length') or 0)
        return self.rfile.read(length) if length > 0 else b''

    def _handle(self) -> None:
        standin: K2hr3StandIn = self.server.standin
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        action = standin._record(self.command, self.path, headers)
        if action is None:
            action = _file_fault(self.command, self.path)
        if standin.state.store_down:
            time.sleep(standin.store_down_delay)
        if action == ('drop',):
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        split = urllib.parse.urlsplit(self.path)
        query: dict[str, str] = {}
        for name, value in urllib.parse.parse_qsl(split.query,
                                                  keep_blank_values=True):
            query.setdefault(name, value)
        req = Request(self.command, urllib.parse.unquote(split.path), query,
                      headers, body,
                      source_ip(self.client_address[0],
                                headers.get('x-forwarded-for')))
        try:
            if action is not None:
                raise ApiError(action[1], 'injected failure (HTTP %d) by the '
                                          'stand-in' % action[1])
            reply = routing.dispatch(standin.state, req)
        except ApiError as exc:
            self._send_error(req, exc)
            return
        except Exception:  # noqa: BLE001 - the real API answers 500 too
            self._send_error(req, ApiError(500, 'Internal server error'))
            raise
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        if reply.status == 204 or reply.body is None:
            self.end_headers()
            return
        data = compact(reply.body).encode()
        self.send_header('content-type', CONTENT_TYPE)
        self.send_header('content-length', str(len(data)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(data)

    def _send_error(self, req: Request, exc: ApiError) -> None:
        body = {'result': False, 'message': exc.message}
        empty = req.method == 'HEAD' or (req.method == 'DELETE'
                                         and not exc.body_on_delete)
        self.send_response(exc.status)
        self.send_header('content-type', CONTENT_TYPE)
        if req.debug:
            shown = {'status': exc.status} if empty else body
            self.send_header('x-k2hr3-error', json.dumps(
                shown, separators=(',', ':')))
        data = b'' if empty else compact(body).encode()
        if req.method != 'HEAD':
            self.send_header('content-length', str(len(data)))
        self.end_headers()
        if req.method != 'HEAD':
            self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], standin: K2hr3StandIn,
                 ssl_context: ssl.SSLContext | None) -> None:
        self.standin = standin
        self.ssl_context = ssl_context
        self.conn_lock = threading.Lock()
        self.conns: set[socket.socket] = set()
        self.workers: set[threading.Thread] = set()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        worker = threading.Thread(
            target=self.process_request_thread, args=(request,
                                                      client_address),
            name='%s-conn' % THREAD_PREFIX, daemon=True)
        with self.conn_lock:
            self.conns.add(request)
            self.workers.add(worker)
        worker.start()

    def process_request_thread(self, request: Any,
                               client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.conn_lock:
                self.conns.discard(request)
                self.workers.discard(threading.current_thread())

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.ssl_context is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(_Handler.timeout)
        try:
            wrapped = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        with self.conn_lock:
            self.conns.add(wrapped)
        try:
            super().finish_request(wrapped, client_address)
        finally:
            with self.conn_lock:
                self.conns.discard(wrapped)
            wrapped.close()

    def close_connections(self) -> list[threading.Thread]:
        with self.conn_lock:
            conns, workers = list(self.conns), list(self.workers)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        return workers


class K2hr3StandIn:
    """In-process K2HR3 API 2.0.3 stand-in (HTTP or HTTPS)."""

    def __init__(self, host: str = '127.0.0.1', port: int = 0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.state = State()
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._host, self._port = host, port
        self._ssl_context = ssl_context
        self._injections: list[tuple] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._workers: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self.store_down_delay = 0.0

    # -- configuration ---------------------------------------------------
    def add_keystone_token(self, token: str, user: str,
                           tenants: list[str]) -> None:
        """Accept ``U=<token>`` as a Keystone token of ``user``."""
        with self.state.lock:
            self.state.add_keystone_token(token, user, tenants)

    def use_keystone(self, url: str) -> None:
        """Check ``U=`` tokens this stand-in did not issue at the
        Keystone whose /v3 URL is ``url`` (standins/k2hr3/keystone.py)."""
        with self.state.lock:
            self.state.keystone_url = url

    # -- lifecycle -------------------------------------------------------
    def start(self) -> None:
        self._server = _Server((self._host, self._port), self,
                               self._ssl_context)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={'poll_interval': 0.1},
            name='%s-serve' % THREAD_PREFIX, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._listener = self._server.socket
        self._workers = self._server.close_connections()
        for worker in self._workers:
            worker.join(timeout=5)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def leaks(self) -> list[str]:
        """What a stopped stand-in still holds (threads, listener)."""
        found = [t.name for t in self._workers if t.is_alive()]
        if self._thread is not None and self._thread.is_alive():
            found.append(self._thread.name)
        if self._server is not None:
            found.append('server not stopped')
        if self._listener is not None and self._listener.fileno() != -1:
            found.append('listening socket open')
        return found

    @property
    def port(self) -> int:
        assert self._server is not None, 'not started'
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        scheme = 'https' if self._ssl_context is not None else 'http'
        host = self._host if ':' not in self._host else '[%s]' % self._host
        return '%s://%s:%d' % (scheme, host, self.port)

    # -- failure injection and inspection -------------------------------
    def fail_next(self, count: int, status: int = 503) -> None:
        """The next ``count`` requests answer ``status`` with the usual
        ``{"result":false,"message":...}`` body."""
        with self._lock:
            self._injections.extend([('fail', status)] * count)

    def drop_next(self, count: int) -> None:
        """The next ``count`` requests get their connection closed without
        any reply."""
        with self._lock:
            self._injections.extend([('drop',)] * count)

    def store_down(self, delay: float = 0.0) -> None:
        """Act as the real K2HR3 does while its own K2HDKC store is down
        (store outage capture): each request is answered after ``delay``
        seconds (the real one waits out its chmpx slave's timeouts, about
        17-23 s with the capture's INI, 38 s for a login); every user or role
        token reads as unknown, so a request carrying one answers 401
        "token(...) is not existed, because it is expired or not set yet."
        as for a wrong token, and a login answers 404.  Tokenless member
        requests are not modelled (the plugin sends none)."""
        with self.state.lock:
            self.store_down_delay = delay
            self.state.store_down = True

    def store_up(self) -> None:
        """The store is back with its data: tokens are valid again."""
        with self.state.lock:
            self.state.store_down = False

    def clear_injections(self) -> None:
        """Drop the failures still queued: K2HR3 is back."""
        with self._lock:
            self._injections.clear()

    def _record(self, method: str, target: str,
                headers: dict[str, str]) -> tuple | None:
        with self._lock:
            self.requests.append((method, target, dict(headers)))
            return self._injections.pop(0) if self._injections else None

    def snapshot(self, tenant: str) -> dict:
        """Names of the tenant's objects, member strings, live tokens."""
        with self.state.lock:
            return self.state.snapshot(tenant)
