"""The taskmanager builds no K2HR3 client for a plain-http URL unless
``[k2hdkc] k2hr3_allow_insecure_http`` allows it, so the requester's
Keystone token is never sent there."""

from __future__ import annotations

import types

import pytest

from trove_k2hdkc.cluster import registry

CLUSTER = '6f1c2a4e-0b1d-4c55-9a53-6d1f0e2b7a01'
CONTEXT = types.SimpleNamespace(auth_token='ks-secret', project_name='demo',
                                project_id='p1')


@pytest.fixture
def logins(monkeypatch):
    seen = []
    monkeypatch.setattr(registry, 'scoped_user_token',
                        lambda client, token, context: seen.append(
                            client._t.settings.base_url))
    return seen


@pytest.mark.parametrize('api, guest', [
    ('http://k2hr3:18080', None),
    ('https://k2hr3:18080', 'http://10.0.0.1:18080')])
def test_http_url_is_refused_before_any_login(conf, logins, api, guest):
    conf.set_override('k2hr3_api_url', api, group='k2hdkc')
    conf.set_override('k2hr3_guest_api_url', guest, group='k2hdkc')
    with pytest.raises(registry.RegistryError,
                       match=r'\[k2hdkc\] k2hr3_allow_insecure_http'):
        registry.registry_from_conf(conf, CONTEXT, CLUSTER)
    assert logins == []


def test_http_url_with_the_option(conf, logins, monkeypatch):
    monkeypatch.setattr(registry.layout, 'ClusterK2hr3',
                        lambda *args, **kwargs: 'objects')
    conf.set_override('k2hr3_api_url', 'http://k2hr3:18080', group='k2hdkc')
    conf.set_override('k2hr3_allow_insecure_http', True, group='k2hdkc')
    got = registry.registry_from_conf(conf, CONTEXT, CLUSTER)
    assert logins == ['http://k2hr3:18080']
    assert got.api_url == 'http://k2hr3:18080'
