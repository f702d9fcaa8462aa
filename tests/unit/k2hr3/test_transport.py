"""Transport rules with a scripted session (no sockets)."""

from __future__ import annotations

import io
import json

import pytest
import requests
from urllib3 import exceptions as u3exc

from trove_k2hdkc.k2hr3 import errors
from trove_k2hdkc.k2hr3.transport import ClientSettings
from trove_k2hdkc.k2hr3.transport import Retry
from trove_k2hdkc.k2hr3.transport import Transport

TOKEN = 'cd' * 32


class FakeResponse:
    def __init__(self, status, body):
        self.status_code = status
        self.content = b'' if body is None else json.dumps(body).encode()


class ScriptedSession:
    """Plays back responses or raises exceptions, recording requests."""

    def __init__(self, *script):
        self.script = list(script)
        self.sent = []
        self.verify = None

    def request(self, method, url, **kwargs):
        self.sent.append((method, url, kwargs))
        item = self.script.pop(0)
        if isinstance(item, BaseException):
            raise item
        return FakeResponse(*item)

    def close(self):
        pass


def transport(session, retries=3):
    sleeps = []
    t = Transport(ClientSettings('https://k2hr3.test', retries=retries,
                                 backoff=0.25), session=session,
                  sleep=sleeps.append)
    return t, sleeps


def refused():
    return requests.ConnectionError(u3exc.MaxRetryError(
        None, '/', u3exc.NewConnectionError(None, 'refused')))


def dropped():
    return requests.ConnectionError(u3exc.ProtocolError(
        'Connection aborted.', ConnectionResetError()))


def test_retries_5xx_with_exponential_backoff():
    session = ScriptedSession((503, {'result': False}), (500, None),
                              (200, {'result': True, 'x': 1}))
    t, sleeps = transport(session)
    assert t.request('GET', '/v1/x').body['x'] == 1
    assert len(session.sent) == 3 and sleeps == [0.25, 0.5]


def test_gives_up_after_retries():
    session = ScriptedSession(*[(503, {'result': False, 'message': 'm'})]
                              * 3)
    t, _ = transport(session, retries=2)
    with pytest.raises(errors.K2hr3HTTPError) as info:
        t.request('GET', '/v1/x')
    assert info.value.status == 503 and len(session.sent) == 3


def test_no_retry_on_4xx():
    session = ScriptedSession((400, {'result': False, 'message': 'bad'}))
    t, _ = transport(session)
    with pytest.raises(errors.K2hr3HTTPError) as info:
        t.request('PUT', '/v1/x')
    assert (info.value.status, info.value.message) == (400, 'bad')
    assert len(session.sent) == 1


def test_result_false_under_2xx_is_an_error():
    session = ScriptedSession((201, {'result': False, 'message': 'no'}))
    t, _ = transport(session)
    with pytest.raises(errors.K2hr3HTTPError) as info:
        t.request('POST', '/v1/x', body={})
    assert info.value.status == 201


def test_not_idempotent_retried_only_when_never_sent():
    session = ScriptedSession(refused(), (200, {'result': True}))
    t, _ = transport(session)
    t.request('GET', '/v1/tok', retry=Retry.IF_NOT_SENT)
    assert len(session.sent) == 2
    for failure in (dropped(), (503, {'result': False})):
        session = ScriptedSession(failure, (200, {'result': True}))
        t, _ = transport(session)
        with pytest.raises(errors.K2hr3Error):
            t.request('GET', '/v1/tok', retry=Retry.IF_NOT_SENT)
        assert len(session.sent) == 1


def test_connection_errors_retried_then_mapped():
    session = ScriptedSession(dropped(), dropped(), dropped())
    t, _ = transport(session, retries=2)
    with pytest.raises(errors.K2hr3ConnectionError) as info:
        t.request('DELETE', '/v1/x')
    assert len(session.sent) == 3 and '3 attempt' in str(info.value)


def test_ok_statuses_and_token_scrubbing():
    session = ScriptedSession(
        (404, None), (401, {'result': False,
                            'message': 'token(%s) is not existed' % TOKEN}))
    t, _ = transport(session)
    assert t.request('DELETE', '/v1/role/token/' + TOKEN,
                     token='U=' + TOKEN,
                     ok_statuses=frozenset({404})).status == 404
    with pytest.raises(errors.K2hr3HTTPError) as info:
        t.request('DELETE', '/v1/role/token/' + TOKEN, token='U=' + TOKEN)
    assert TOKEN not in str(info.value) and TOKEN not in info.value.path
    assert TOKEN not in (info.value.message or '')
    headers = session.sent[0][2]['headers']
    assert headers['x-auth-token'] == 'U=' + TOKEN


class RedirectingAdapter(requests.adapters.BaseAdapter):
    """requests' own redirect handling over no socket: the https K2HR3
    answers ``status`` pointing at plain http, which would answer 200."""

    def __init__(self, status):
        super().__init__()
        self.status = status
        self.sent = []

    def send(self, request, **kwargs):
        self.sent.append((request.url, request.headers.get('x-auth-token')))
        resp = requests.Response()
        resp.request, resp.url, resp.raw = request, request.url, io.BytesIO()
        if request.url.startswith('https://'):
            resp.status_code = self.status
            resp.headers['Location'] = request.url.replace(
                'https://k2hr3.test', 'http://plain.test')
            resp._content = b''
        else:
            resp.status_code = 200
            resp._content = b'{"result": true, "message": null}'
        return resp

    def close(self):
        pass


@pytest.mark.parametrize('status', [301, 302, 307, 308])
def test_redirect_to_plain_http_is_not_followed(status):
    """Redirects are never followed, so a token only goes to a URL that
    passed ``check_url`` (doc/k2hr3-layout.md §5): requests keeps custom
    headers such as ``x-auth-token`` across a redirect, so following an
    https K2HR3's redirect to http would send it unencrypted."""
    adapter = RedirectingAdapter(status)
    session = requests.Session()
    session.mount('https://', adapter)
    session.mount('http://', adapter)
    t, _ = transport(session, retries=0)
    with pytest.raises(errors.K2hr3HTTPError) as info:
        t.request('GET', '/v1/resource/r1', token='U=' + TOKEN)
    assert info.value.status == status
    assert adapter.sent == [('https://k2hr3.test/v1/resource/r1',
                             'U=' + TOKEN)]
    assert TOKEN not in str(info.value)
