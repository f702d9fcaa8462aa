"""Which K2HR3 tenant the taskmanager acts in (registry.scoped_user_token).

Trove's RPC context loses ``project_name``; the tenant must then be
found by project id among the user's K2HR3 tenants, never guessed.
"""

from __future__ import annotations

import types

import pytest

from trove_k2hdkc.cluster import registry


class FakeClient:
    def __init__(self, tenants):
        self.tenants = tenants
        self.calls = []

    def scoped_token_from_keystone(self, keystone_token, tenant):
        self.calls.append(('keystone-scoped', keystone_token, tenant))
        return 'scoped:' + tenant

    def unscoped_token_from_keystone(self, keystone_token):
        self.calls.append(('unscoped', keystone_token))
        return 'unscoped-token'

    def token_info(self, token):
        self.calls.append(('info', token))
        return {'user': 'u', 'scoped': False, 'tenants': self.tenants}

    def scoped_token_from_unscoped(self, unscoped, tenant):
        self.calls.append(('scope', unscoped, tenant))
        return 'scoped:' + tenant


def ctx(name=None, project_id=None):
    return types.SimpleNamespace(project_name=name, project_id=project_id)


def tenant(name, tid):
    return {'name': name, 'display': name, 'id': tid, 'description': ''}


def test_project_name_is_used_lower_cased():
    client = FakeClient([])
    got = registry.scoped_user_token(client, 'ks', ctx('DemoProj', 'p1'))
    assert got == 'scoped:demoproj'
    assert client.calls == [('keystone-scoped', 'ks', 'demoproj')]


def test_without_name_the_tenant_with_the_project_id_is_used():
    client = FakeClient([tenant('other', 'aaa'), tenant('demo', 'ABC1')])
    got = registry.scoped_user_token(client, 'ks', ctx(None, 'abc1'))
    assert got == 'scoped:demo'
    assert client.calls[-1] == ('scope', 'unscoped-token', 'demo')


@pytest.mark.parametrize('tenants', [
    [],
    [tenant('other', 'zzz')],
])
def test_no_matching_tenant_is_refused(tenants):
    client = FakeClient(tenants)
    with pytest.raises(registry.RegistryError, match='project p1'):
        registry.scoped_user_token(client, 'ks', ctx(None, 'p1'))
    assert not [c for c in client.calls if c[0] == 'scope']


def test_context_without_project_is_refused():
    with pytest.raises(registry.RegistryError, match='neither'):
        registry.scoped_user_token(FakeClient([]), 'ks', ctx())
