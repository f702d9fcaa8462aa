"""Provision / grow / shrink / teardown of a cluster's K2HR3 objects.

Every test taking ``backend`` runs twice: against the K2HR3 stand-in
(always) and against a REAL K2HR3 API (only when one is named; otherwise
that variant is skipped, saying why).  How to run against a real one
(K2HR3 API 2.0.3 with ``keystone.type = dummyuserapi``, plain HTTP)::

    cd <checkout> && \\
    K2HDKC_TEST_K2HR3_URL=http://127.0.0.1:28080 \\
    K2HDKC_TEST_K2HR3_USER=dkcadmin K2HDKC_TEST_K2HR3_TENANT=tenant0 \\
    PYTHONPATH=$PWD python -m pytest -q -p no:cacheprovider \\
        tests/functional/k2hr3/test_layout_lifecycle.py -k real

USER and TENANT default to ``dkcadmin`` / ``tenant0``.  Each test uses a
fresh cluster id and tears its objects down even when it fails, so it
leaves nothing in that tenant.  In both modes the checks read the K2HR3
API only (``backends.Backend.objects``: ``/v1/list/*``; role reads; the
INI a node reads with its role token); tests that need the stand-in's
failure injection or state are marked so and run against it only.
"""

from __future__ import annotations

from collections.abc import Iterator
import logging
import re
import uuid

import pytest

from tests.functional.k2hr3.backends import Backend
from tests.functional.k2hr3.helpers import CLUSTER_ID
from tests.functional.k2hr3.helpers import KEYSTONE_TOKEN
from tests.functional.k2hr3.helpers import TENANT
from tests.functional.k2hr3.helpers import empty_snapshot
from tests.functional.k2hr3.helpers import login
from tests.functional.k2hr3.helpers import make_client
from trove_k2hdkc.k2hr3 import ClusterK2hr3
from trove_k2hdkc.k2hr3 import ClusterSettings
from trove_k2hdkc.k2hr3 import K2hr3Error
from trove_k2hdkc.k2hr3 import K2hr3LeftBehindError

SETTINGS = ClusterSettings()


class Crash(Exception):
    pass


@pytest.fixture
def cluster(backend: Backend) -> Iterator[ClusterK2hr3]:
    """A fresh cluster id; whatever the test leaves is torn down."""
    made = ClusterK2hr3(backend.client, backend.token, str(uuid.uuid4()),
                        SETTINGS)
    yield made
    made.client = backend.client          # a test may have wrapped it
    try:
        made.teardown()
    except K2hr3Error:
        pass


def _server_names(api: Backend, cluster: ClusterK2hr3,
                  token) -> list[str]:
    """NAME of every [SVRNODE] in the server INI, read as a node does
    (role token)."""
    text = api.client.read_resource_by_role(
        token, cluster.names.resource_yrn('server'))
    sections = re.split(r'^\[', text, flags=re.MULTILINE)
    return [name for section in sections if section.startswith('SVRNODE]')
            for name in re.findall(r'^NAME\s*=\s*(\S+)\s*$', section,
                                   re.MULTILINE)]


def _full(api: Backend, cluster: ClusterK2hr3) -> bool:
    n = cluster.names.name
    three = [n, n + '/server', n + '/slave']
    return api.objects(n) == {'role': three, 'resource': three,
                              'policy': [n]}


def test_provision_grow_shrink_teardown(backend, cluster):
    tokens = cluster.provision()
    assert _full(backend, cluster)
    ids = [str(uuid.uuid4()) for _ in range(3)]
    cluster.add_member('server', '10.0.0.1', ids[0])
    cluster.add_member('server', '10.0.0.2', ids[1])
    cluster.add_member('slave', '10.0.1.1', ids[2])
    assert sorted(m.cuk for m in cluster.members('server')) == sorted(
        ids[:2])
    assert _server_names(backend, cluster, tokens.server) == [
        '10.0.0.1', '10.0.0.2']
    cluster.remove_member('server', '10.0.0.2', ids[1])
    # The shrunk ring: the INI every node reads no longer lists it.
    assert [m.cuk for m in cluster.members('server')] == [ids[0]]
    assert _server_names(backend, cluster, tokens.server) == ['10.0.0.1']
    cluster.teardown()
    assert backend.has_none(cluster.names.name)
    assert cluster.leftovers() == []
    cluster.teardown()  # nothing left: still succeeds
    assert backend.has_none(cluster.names.name)


def test_provision_twice_reuses_tokens(backend, cluster):
    first = cluster.provision()
    cluster.add_member('server', '10.0.0.1', str(uuid.uuid4()))
    second = cluster.provision()
    assert (second.server.token, second.slave.token) == (
        first.server.token, first.slave.token)
    assert len(cluster.members('server')) == 1
    refreshed = cluster.issue_tokens()
    assert refreshed.server.token != first.server.token
    assert cluster.revoke_other_tokens(refreshed) == 2
    assert _server_names(backend, cluster, refreshed.server) == ['10.0.0.1']
    with pytest.raises(K2hr3Error):
        _server_names(backend, cluster, first.server)
    cluster.teardown()
    assert backend.has_none(cluster.names.name)


@pytest.mark.parametrize('stop_after', [1, 4, 6, 8])
def test_half_done_provision_is_finished_or_torn_down(
        backend, cluster, stop_after):
    client = backend.client
    real = client._t.request
    calls = []

    def crashing(*args, **kwargs):
        if len(calls) >= stop_after:
            raise Crash()
        calls.append(args[:2])
        return real(*args, **kwargs)

    client._t.request = crashing
    try:
        with pytest.raises(Crash):
            cluster.provision()
    finally:
        client._t.request = real
    assert not backend.has_none(cluster.names.name)
    cluster.teardown()
    assert backend.has_none(cluster.names.name)
    # Or re-run: the crashed provision is completed.
    client._t.request = crashing
    calls.clear()
    try:
        with pytest.raises(Crash):
            cluster.provision()
    finally:
        client._t.request = real
    cluster.provision()
    assert _full(backend, cluster)
    cluster.teardown()
    assert backend.has_none(cluster.names.name)


def test_teardown_after_objects_deleted_by_hand(
        backend, cluster, caplog):
    """K2HR3 already deleted the roles (with their tokens) and more: the
    teardown ends cleanly and reports nothing."""
    c, t, n = backend.client, backend.token, cluster.names.name
    cluster.provision()
    cluster.add_member('server', '10.0.0.1', str(uuid.uuid4()))
    for role in (n + '/server', n + '/slave', n):
        c.delete_role(t, role)
    c.delete_policy(t, n)
    c.delete_resource(t, n + '/slave')
    caplog.set_level(logging.INFO)
    cluster.teardown()
    assert backend.has_none(n)
    assert 'refused' not in caplog.text


def test_teardown_survives_members_our_model_refuses(backend, cluster,
                                                    caplog):
    """The project's user can add members K2HR3 accepts but the plugin's
    model refuses (a port of 70000 is kept as it is): teardown still
    removes everything and says nothing is left."""
    cluster.provision()
    role = cluster.names.child('server')
    backend.client._t.request(
        'PUT', '/v1/role/' + role,
        token='U=' + backend.token.token,
        params={'host': '10.9.9.9', 'port': '70000', 'cuk': 'x'})
    caplog.set_level(logging.INFO)
    cluster.teardown()
    assert backend.has_none(cluster.names.name)
    assert 'nothing is left' in caplog.text


def test_teardown_when_a_role_goes_between_listing_and_revoking(
        backend, cluster):
    """K2HR3 deletes a role's tokens with the role and then answers 403
    to their revoke (second capture F2)."""
    c, t = backend.client, backend.token
    cluster.provision()
    role = cluster.names.child('server')
    listed = c.list_role_tokens

    class RoleDeletedAfterListing:
        def __getattr__(self, name):
            return getattr(c, name)

        def list_role_tokens(self, token, name):
            found = listed(token, name)
            if name == role:
                c.delete_role(t, role)
            return found

    cluster.client = RoleDeletedAfterListing()
    cluster.teardown()
    assert backend.has_none(cluster.names.name)


def test_teardown_names_what_still_remains(backend, cluster):
    """A delete K2HR3 answered but did not do: the end check names
    exactly what remains.  The policy stays, and so do the two resources
    it lists, because K2HR3 refuses to delete a resource a policy lists
    (third capture D1); the unlisted parent resource goes.  Once the
    policy delete gets through, a second teardown removes the rest."""
    c = backend.client
    n = cluster.names
    cluster.provision()

    class PolicyDeleteIgnored:
        def __getattr__(self, name):
            return getattr(c, name)

        def delete_policy(self, token, name):
            return None

    cluster.client = PolicyDeleteIgnored()
    with pytest.raises(K2hr3LeftBehindError) as info:
        cluster.teardown()
    assert info.value.objects == ('policy ' + n.name,
                                  'resource ' + n.child('server'),
                                  'resource ' + n.child('slave'))
    assert backend.objects(n.name)['policy'] == [n.name]
    cluster.client = c
    cluster.teardown()
    assert backend.has_none(n.name)


# -- stand-in only: failure injection and the stand-in's state ------------

def test_standin_state_is_empty_after_teardown(k2hr3_standin, api):
    client, token = api
    cluster = ClusterK2hr3(client, token, CLUSTER_ID, SETTINGS)
    cluster.provision()
    cluster.add_member('server', '10.0.0.1', 'i-1')
    assert k2hr3_standin.snapshot(TENANT)['role_tokens'] == 2
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
