"""``trove-k2hdkc-orphans`` (``cmd.k2hr3_orphans.run``) on the stand-in
and on a real K2HR3 when ``K2HDKC_TEST_K2HR3_URL`` names one (backends).

A dummyuserapi K2HR3 has no Keystone-token login (second capture F5), so
the lister's first step, the unscoped login, is the dummyuserapi
credentials login here; the tenant listing, scoped logins, object lists,
end checks and teardowns are the product's.  A real K2HR3 may hold other
runs' objects: every product id found before the test counts as owned,
so the lister only ever sees (and removes) what this test made.
"""

from __future__ import annotations

import io
import os
import uuid

import requests

from tests.functional.k2hr3.backends import USER_ENV
from trove_k2hdkc.cmd import k2hr3_orphans
from trove_k2hdkc.k2hr3 import ClusterK2hr3
from trove_k2hdkc.k2hr3 import ClusterSettings
from trove_k2hdkc.k2hr3 import orphans


def _lister_client(backend, monkeypatch):
    client = backend.client

    def unscoped(_keystone_token):
        reply = requests.put(backend.url + '/v1/user/tokens', timeout=10,
                             params={'username': os.environ.get(
                                         USER_ENV, 'dkcadmin'),
                                     'password': 'unused'})
        reply.raise_for_status()
        return reply.json()['token']

    monkeypatch.setattr(client, 'unscoped_token_from_keystone', unscoped)
    return client


def _run(client, owned, delete):
    out = io.StringIO()
    status = k2hr3_orphans.run(client, 'keystone-token-unused', owned,
                               delete, out, out)
    return status, out.getvalue()


def test_lister_reports_and_removes_only_unowned_ids(backend, monkeypatch):
    client = _lister_client(backend, monkeypatch)
    tenants = list(orphans.tenants(client, 'keystone-token-unused'))
    here = next(t for t in tenants if t.name == backend.token.tenant)
    owned = {(t.id, i) for t in tenants
             for i in orphans.product_ids(client, t.token)}
    lost, kept = str(uuid.uuid4()), str(uuid.uuid4())
    made = {i: ClusterK2hr3(backend.client, backend.token, i,
                            ClusterSettings()) for i in (lost, kept)}
    try:
        for cluster in made.values():
            cluster.provision()
        made[lost].add_member('server', '10.0.0.1', str(uuid.uuid4()))
        owned.add((here.id, kept))

        status, text = _run(client, owned, delete=False)
        assert status == 0
        assert ('ORPHAN   tenant %s (project %s) k2hdkc-%s: role '
                'k2hdkc-%s/server (1 members, 1 tokens)'
                % (here.name, here.id, lost, lost)) in text
        assert kept not in text and '1 orphan(s)' in text
        assert not backend.has_none('k2hdkc-' + lost)

        status, text = _run(client, owned, delete=True)
        assert status == 0 and 'DELETED  tenant %s k2hdkc-%s' % (
            here.name, lost) in text
        assert backend.has_none('k2hdkc-' + lost)
        assert backend.objects('k2hdkc-' + kept)['policy'] == [
            'k2hdkc-' + kept]
        assert _run(client, owned, delete=False)[1].startswith(
            '0 orphan(s)')
    finally:
        for cluster in made.values():
            cluster.teardown()
