"""The guest edge of K2HR3 access: GuestNodeError and the 0600 store."""

from __future__ import annotations

import pytest

from trove_k2hdkc.guest import errors
from trove_k2hdkc.guest.access import AccessStore
from trove_k2hdkc.guest.access import node_access

TOKEN = 'r0le-t0ken-s3cret'
FIELDS = {'k2hr3_url': 'https://k2hr3.example.net:18080',
          'resource_yrn': 'yrn:yahoo:::t:resource:r',
          'role_yrn': 'yrn:yahoo:::t:role:r', 'role_token': TOKEN}


@pytest.mark.parametrize('fields', [
    dict(FIELDS, role_token=''), dict(FIELDS, extra=1), {1: 'x'}, {}])
def test_malformed_access_is_a_guest_node_error(fields):
    with pytest.raises(errors.GuestNodeError) as info:
        node_access(fields, 'configure_node')
    assert str(info.value).startswith('configure_node: ')
    assert TOKEN not in str(info.value)


def test_plain_http_access_is_refused_unless_allowed():
    """The control plane's word is not enough: the guest's own option
    decides whether its role token may travel over plain http."""
    fields = dict(FIELDS, k2hr3_url='http://k2hr3.example.net:18080')
    with pytest.raises(errors.GuestNodeError,
                       match=r'\[k2hdkc\] k2hr3_allow_insecure_http') as info:
        node_access(fields, 'configure_node')
    assert TOKEN not in str(info.value)
    assert node_access(fields, 'configure_node',
                       allow_http=True).k2hr3_url == fields['k2hr3_url']
    assert node_access(FIELDS, 'configure_node').k2hr3_url.startswith(
        'https://')


def test_store_round_trips_in_a_0600_file(tmp_path):
    store = AccessStore(tmp_path)
    access = node_access(FIELDS, 'configure_node')
    store.save(access)
    assert oct(store.path.stat().st_mode & 0o777) == '0o600'
    assert AccessStore(tmp_path).load() == access


@pytest.mark.parametrize('text', ['{', '[]', '{"k2hr3_url": "x"}'])
def test_unreadable_store_asks_for_configure_node(tmp_path, text):
    store = AccessStore(tmp_path)
    store.path.write_text(text)
    with pytest.raises(errors.NotConfiguredError, match='configure_node'):
        store.load()
