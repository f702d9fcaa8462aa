"""The Swift fixture is a real Swift: SLOs, ETags and auth refusals."""

from __future__ import annotations

import hashlib
import json

import pytest
import swiftclient


def test_slo_stored_and_read_back(swift):
    conn = swift.connection()
    conn.put_container('slo-test')
    parts = [bytes([i]) * (70000 + i) for i in range(3)]
    manifest = []
    for i, data in enumerate(parts):
        etag = conn.put_object('slo-test', 'seg_%08d' % i,
                               iter([data[:1000], data[1000:]]))
        assert etag == hashlib.md5(data).hexdigest()  # noqa: S324
        manifest.append({'path': 'slo-test/seg_%08d' % i, 'etag': etag,
                         'size_bytes': len(data)})
    conn.put_object('slo-test', 'whole', json.dumps(manifest),
                    query_string='multipart-manifest=put')
    headers, body = conn.get_object('slo-test', 'whole')
    assert body == b''.join(parts)
    # An SLO's ETag is the MD5 of its segments' ETags (Trove's checksum).
    joined = ''.join(m['etag'] for m in manifest).encode()
    assert headers['etag'].strip('"') == \
        hashlib.md5(joined).hexdigest()  # noqa: S324
    assert headers['x-static-large-object'] == 'True'
    _, raw = conn.get_object('slo-test', 'whole',
                             query_string='multipart-manifest=get')
    assert [s['name'] for s in json.loads(raw)] == [
        '/slo-test/seg_%08d' % i for i in range(3)]


def test_slo_with_a_wrong_segment_etag_is_refused(swift):
    conn = swift.connection()
    conn.put_container('slo-bad')
    etag = conn.put_object('slo-bad', 'seg', b'x' * 10)
    bad = [{'path': 'slo-bad/seg', 'etag': etag[::-1], 'size_bytes': 10}]
    with pytest.raises(swiftclient.ClientException) as err:
        conn.put_object('slo-bad', 'whole', json.dumps(bad),
                        query_string='multipart-manifest=put')
    assert err.value.http_status == 400


def test_wrong_token_is_refused(swift):
    conn = swiftclient.Connection(preauthurl=swift.url,
                                  preauthtoken='not-the-token', retries=0)
    with pytest.raises(swiftclient.ClientException) as err:
        conn.put_container('never')
    assert err.value.http_status == 401


def test_a_project_token_reaches_only_its_account():
    from tests.swiftlocal import token as tokenmod

    def app(environ, start_response):
        start_response('204 No Content', [])
        return [b'']

    guarded = tokenmod.filter_factory(
        {}, tokens='p1tok=AUTH_p1 optok=*')(app)

    def status(path, tok):
        seen = []
        guarded({'PATH_INFO': path, 'HTTP_X_AUTH_TOKEN': tok},
                lambda s, h: seen.append(s))
        return int(seen[0].split()[0])

    assert status('/v1/AUTH_p1/c/o', 'p1tok') == 204
    assert status('/v1/AUTH_p2/c/o', 'p1tok') == 401
    assert status('/v1/AUTH_p2/c/o', 'optok') == 204
    assert status('/v1/AUTH_p1', 'nope') == 401
    assert status('/info', '') == 204
