"""Provision / teardown of a cluster's K2HR3 objects against the stand-in."""

from __future__ import annotations

import logging

import pytest

from tests.functional.k2hr3.helpers import CLUSTER_ID
from tests.functional.k2hr3.helpers import KEYSTONE_TOKEN
from tests.functional.k2hr3.helpers import TENANT
from tests.functional.k2hr3.helpers import empty_snapshot
from tests.functional.k2hr3.helpers import login
from tests.functional.k2hr3.helpers import make_client
from trove_k2hdkc.k2hr3 import ClusterK2hr3
from trove_k2hdkc.k2hr3 import ClusterSettings
from trove_k2hdkc.k2hr3 import K2hr3Error

SETTINGS = ClusterSettings()
NAME = 'k2hdkc-' + CLUSTER_ID


class Crash(Exception):
    pass


@pytest.fixture
def api(k2hr3_standin):
    client = make_client(k2hr3_standin)
    yield client, login(k2hr3_standin, client)
    client.close()


def _full(snap):
    return (sorted(snap['resources']) == sorted(
        [NAME, NAME + '/server', NAME + '/slave'])
        and sorted(snap['roles']) == sorted(
            [NAME, NAME + '/server', NAME + '/slave'])
        and snap['policies'] == [NAME])


def test_provision_then_teardown_leaves_nothing(k2hr3_standin, api):
    client, token = api
    cluster = ClusterK2hr3(client, token, CLUSTER_ID, SETTINGS)
    tokens = cluster.provision()
    snap = k2hr3_standin.snapshot(TENANT)
    assert _full(snap) and snap['role_tokens'] == 2
    cluster.add_member('server', '10.0.0.1', 'i-1')
    cluster.add_member('server', '10.0.0.2', 'i-2')
    cluster.add_member('slave', '10.0.1.1', 'i-3')
    assert [m.cuk for m in cluster.members('server')] == ['i-1', 'i-2']
    cluster.remove_member('server', '10.0.0.2', 'i-2')
    assert [m.cuk for m in cluster.members('server')] == ['i-1']
    assert 'SVRNODE' in client.read_resource_by_role(
        tokens.server, cluster.names.resource_yrn('server'))
    cluster.teardown()
    assert empty_snapshot(k2hr3_standin.snapshot(TENANT))
    cluster.teardown()  # nothing left: still succeeds
    assert empty_snapshot(k2hr3_standin.snapshot(TENANT))


def test_provision_twice_is_idempotent(k2hr3_standin, api):
    client, token = api
    cluster = ClusterK2hr3(client, token, CLUSTER_ID, SETTINGS)
    first = cluster.provision()
    cluster.add_member('server', '10.0.0.1', 'i-1')
    snap1 = k2hr3_standin.snapshot(TENANT)
    second = cluster.provision()
    assert k2hr3_standin.snapshot(TENANT) == snap1
    assert (second.server.token, second.slave.token) == (
        first.server.token, first.slave.token)
    refreshed = cluster.issue_tokens()
    assert refreshed.server.token != first.server.token
    assert cluster.revoke_other_tokens(refreshed) == 2
    assert k2hr3_standin.snapshot(TENANT)['role_tokens'] == 2
    cluster.teardown()
    assert empty_snapshot(k2hr3_standin.snapshot(TENANT))


@pytest.mark.parametrize('stop_after', [1, 4, 6, 8])
def test_half_done_provision_is_finished_or_torn_down(
        k2hr3_standin, api, stop_after):
    client, token = api
    cluster = ClusterK2hr3(client, token, CLUSTER_ID, SETTINGS)
    real = client._t.request
    calls = []

    def crashing(*args, **kwargs):
        if len(calls) >= stop_after:
            raise Crash()
        calls.append(args[:2])
        return real(*args, **kwargs)

    client._t.request = crashing
    with pytest.raises(Crash):
        cluster.provision()
    client._t.request = real
    assert not empty_snapshot(k2hr3_standin.snapshot(TENANT))
    cluster.teardown()
    assert empty_snapshot(k2hr3_standin.snapshot(TENANT))
    # Or re-run: the crashed provision is completed.
    client._t.request = crashing
    calls.clear()
    with pytest.raises(Crash):
        cluster.provision()
    client._t.request = real
    cluster.provision()
    snap = k2hr3_standin.snapshot(TENANT)
    assert _full(snap) and snap['role_tokens'] == 2
    cluster.teardown()
    assert empty_snapshot(k2hr3_standin.snapshot(TENANT))


def test_teardown_after_objects_deleted_by_hand(k2hr3_standin, api):
    client, token = api
    cluster = ClusterK2hr3(client, token, CLUSTER_ID, SETTINGS)
    cluster.provision()
    cluster.add_member('server', '10.0.0.1', 'i-1')
    client.delete_role(token, NAME)
    client.delete_policy(token, NAME)
    client.delete_resource(token, NAME + '/slave')
    cluster.teardown()
    assert empty_snapshot(k2hr3_standin.snapshot(TENANT))


def test_no_token_in_logs_or_errors(k2hr3_standin, caplog):
    records = []

    class Grab(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    grab = Grab(level=logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(grab)
    root.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    errors_seen = []
    try:
        client = make_client(k2hr3_standin, retries=1)
        token = login(k2hr3_standin, client)
        cluster = ClusterK2hr3(client, token, CLUSTER_ID, SETTINGS)
        tokens = cluster.provision()
        cluster.add_member('server', '10.0.0.1', 'i-1')
        k2hr3_standin.fail_next(1, status=503)
        cluster.members('server')  # one retry, logged
        secrets = {KEYSTONE_TOKEN, token.token, tokens.server.token,
                   tokens.slave.token, tokens.server.registerpath,
                   tokens.slave.registerpath}
        refreshed = cluster.issue_tokens()
        secrets |= {refreshed.server.token, refreshed.slave.token}
        cluster.revoke_other_tokens(refreshed)
        # K2HR3 echoes tokens in messages: revoked role token, bad tenant.
        for call in (
                lambda: client.read_resource_by_role(
                    tokens.server, cluster.names.resource_yrn('server')),
                lambda: client.scoped_token_from_keystone(
                    KEYSTONE_TOKEN, 'nosuchtenant')):
            try:
                call()
            except K2hr3Error as exc:
                errors_seen.append(exc)
        cluster.teardown()
        client.close()
    finally:
        root.removeHandler(grab)
        root.setLevel(old_level)
    assert len(errors_seen) == 2
    texts = [caplog.text] + records + [
        '%s %r %s %s' % (e, e, getattr(e, 'path', ''),
                         getattr(e, 'message', '')) for e in errors_seen]
    assert any('K2HR3' in t for t in texts)
    for secret in filter(None, secrets):
        for text in texts:
            assert secret not in text
