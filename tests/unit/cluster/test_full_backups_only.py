"""Incremental k2hdkc backups answer 400 at the API (doc/backup.md §3),
through Trove's own extension middleware as trove-api builds it from the
entry point; everything else reaches Trove's backups controller
unchanged."""

from __future__ import annotations

import json
import types
from unittest import mock

import pytest
from trove.common import exception as trove_exc
from trove.common import extensions
import webob
import webob.dec

from trove_k2hdkc.backupset import api as setapi
from trove_k2hdkc.backupset import fullonly

INSTANCES = {
    'k1': types.SimpleNamespace(tenant_id='p1', datastore_version_id='v-k'),
    'm1': types.SimpleNamespace(tenant_id='p1', datastore_version_id='v-m'),
}
VERSIONS = {'v-k': 'k2hdkc', 'v-m': 'mysql'}


def _find_by(**kw):
    if kw['id'] not in INSTANCES:
        raise trove_exc.ModelNotFoundError('no instance %s' % kw['id'])
    return INSTANCES[kw['id']]


def _version(uuid):
    return types.SimpleNamespace(manager=VERSIONS[uuid])


@pytest.fixture
def api(monkeypatch):
    """(send, what Trove's own application received)."""
    monkeypatch.setattr(fullonly.DBInstance, 'find_by', _find_by)
    monkeypatch.setattr(fullonly.DatastoreVersion, 'load_by_uuid', _version)
    received = []

    @webob.dec.wsgify
    def trove(req):
        received.append((req.method, req.path_info, req.body))
        return webob.Response(json={'trove': req.method}, status=202)

    with mock.patch.object(setapi, 'register_policy'):
        resources = setapi.K2hdkc().get_resources()
    manager = mock.Mock(get_resources=lambda: resources,
                        get_actions=lambda: [],
                        get_request_extensions=lambda: [])
    app = extensions.ExtensionMiddleware(trove, {}, ext_mgr=manager)

    def send(method, path, body=None, project='p1', admin=False):
        req = webob.Request.blank(
            path, method=method,
            body=json.dumps(body).encode() if body is not None else b'',
            content_type='application/json')
        req.environ['trove.context'] = types.SimpleNamespace(
            project_id=project, is_admin=admin)
        return req.get_response(app)
    return send, received


@pytest.mark.parametrize('spec', [
    {'incremental': True}, {'incremental': 1}, {'parent_id': 'b0'},
    {'incremental': True, 'parent_id': 'b0'}])
def test_an_incremental_k2hdkc_backup_is_refused_before_trove_sees_it(
        api, spec):
    send, received = api
    body = {'backup': dict({'name': 'inc', 'instance': 'k1'}, **spec)}
    res = send('POST', '/p1/backups', body)
    assert res.status_int == 400
    message = json.loads(res.body)['badRequest']['message']
    assert 'incremental backups are not supported (instance k1)' in message
    assert 'without --incremental' in message
    assert received == []


def test_an_admin_is_refused_too(api):
    send, received = api
    res = send('POST', '/p9/backups', {'backup': {
        'name': 'inc', 'instance': 'k1', 'incremental': True}},
        project='p9', admin=True)
    assert res.status_int == 400
    assert received == []


@pytest.mark.parametrize('spec,project', [
    ({'instance': 'k1'}, 'p1'),                         # a full backup
    ({'instance': 'k1', 'incremental': False}, 'p1'),
    ({'instance': 'm1', 'incremental': True}, 'p1'),    # not k2hdkc
    ({'instance': 'nope', 'incremental': True}, 'p1'),  # Trove's 404
    ({'instance': 'k1', 'incremental': True}, 'p2'),    # not theirs
    ({'restore_from': {'remote_location': 'x'}}, 'p1'),
])
def test_every_other_create_reaches_trove_with_its_body(api, spec, project):
    send, received = api
    body = {'backup': dict({'name': 'b'}, **spec)}
    res = send('POST', '/%s/backups' % project, body, project=project)
    assert res.status_int == 202
    assert json.loads(res.body) == {'trove': 'POST'}
    assert [(m, p, json.loads(b)) for m, p, b in received] == [
        ('POST', '/%s/backups' % project, body)]


def test_other_backup_requests_reach_trove_unchanged(api):
    send, received = api
    for method, path in [('GET', '/p1/backups'), ('GET', '/p1/backups/b1'),
                         ('DELETE', '/p1/backups/b1'),
                         ('GET', '/p1/backups?instance_id=k1')]:
        res = send(method, path)
        assert res.status_int == 202
        assert json.loads(res.body) == {'trove': method}
    assert [(m, p) for m, p, _ in received] == [
        ('GET', '/p1/backups'), ('GET', '/p1/backups/b1'),
        ('DELETE', '/p1/backups/b1'), ('GET', '/p1/backups')]


def test_a_body_that_is_not_a_backup_goes_to_trove_to_answer(api):
    send, received = api
    res = send('POST', '/p1/backups', {'other': 1})
    assert res.status_int == 202
    assert len(received) == 1
