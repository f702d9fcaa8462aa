"""An https K2HR3 that redirects to plain http gets no token sent there:
redirects are never followed, so a token only goes to a URL that passed
``check_url`` (doc/k2hr3-layout.md §5). requests keeps custom headers
such as ``x-auth-token`` across a redirect, so following one would leak
it unencrypted."""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import http.server
import ssl
import threading

import pytest

from tests.functional.k2hr3.test_transport_rules import _self_signed
from trove_k2hdkc.k2hr3 import K2hr3HTTPError
from trove_k2hdkc.k2hr3.transport import ClientSettings
from trove_k2hdkc.k2hr3.transport import Transport

TOKEN = 'U=' + 'ab' * 32


@contextlib.contextmanager
def serving(reply, ssl_context: ssl.SSLContext | None = None
            ) -> Iterator[tuple[str, list]]:
    """A loopback server answering every GET with ``reply(handler)``;
    yields its URL and the headers of each request it got."""
    seen: list = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            seen.append(dict(self.headers))
            reply(self)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    scheme = 'http'
    if ssl_context is not None:
        server.socket = ssl_context.wrap_socket(server.socket,
                                                server_side=True)
        scheme = 'https'
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield '%s://127.0.0.1:%d' % (scheme, server.server_address[1]), seen
    finally:
        server.shutdown()
        server.server_close()


def _ok(handler):
    body = b'{"result": true, "message": null}'
    handler.send_response(200)
    handler.send_header('Content-Type', 'application/json')
    handler.send_header('Content-Length', str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@pytest.mark.parametrize('status', [301, 302, 307, 308])
def test_redirect_to_plain_http_is_not_followed(tmp_path, status):
    cert_file, key_file = _self_signed(tmp_path)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert_file), str(key_file))
    with serving(_ok) as (plain_url, plain_seen):
        def redirect(handler):
            handler.send_response(status)
            handler.send_header('Location', plain_url + handler.path)
            handler.send_header('Content-Length', '0')
            handler.end_headers()

        with serving(redirect, ctx) as (url, seen):
            transport = Transport(ClientSettings(
                base_url=url, verify=str(cert_file), retries=0))
            with transport, pytest.raises(K2hr3HTTPError) as info:
                transport.request('GET', '/v1/resource/r1', token=TOKEN)
    assert info.value.status == status
    assert [h.get('x-auth-token') for h in seen] == [TOKEN]
    assert plain_seen == []
    assert TOKEN[2:] not in str(info.value)
