"""Shared helpers of the K2HR3 client functional tests."""

from __future__ import annotations

from trove_k2hdkc.k2hr3 import ClientSettings
from trove_k2hdkc.k2hr3 import build_client

KEYSTONE_TOKEN = 'ks-token-0123456789-secret'
TENANT = 'tenant0'
CLUSTER_ID = '6f1c2a4e-0b1d-4c55-9a53-6d1f0e2b7a01'


def make_client(standin, **overrides):
    # The stand-in (and a real test K2HR3) listens on plain http.
    kwargs = {'timeout': 5.0, 'retries': 3, 'backoff': 0.0,
              'allow_http': True}
    kwargs.update(overrides)
    if 'base_url' not in kwargs:
        kwargs['base_url'] = standin.url
    return build_client(ClientSettings(**kwargs))


def login(standin, client):
    """Register the Keystone token with the stand-in; get a user token."""
    standin.add_keystone_token(KEYSTONE_TOKEN, user='demo',
                               tenants=[TENANT])
    return client.scoped_token_from_keystone(KEYSTONE_TOKEN, TENANT)


def requests_to(standin, method, prefix):
    return [r for r in standin.requests
            if r[0] == method and r[1].startswith(prefix)]


def empty_snapshot(snap) -> bool:
    return (not snap['resources'] and not snap['policies']
            and not snap['roles'] and not any(snap['role_hosts'].values())
            and snap['role_tokens'] == 0)
