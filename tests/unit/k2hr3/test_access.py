"""NodeAccess: one model of the K2HR3 access handed to a node."""

from __future__ import annotations

import pytest

from trove_k2hdkc.k2hr3.access import InvalidAccessError
from trove_k2hdkc.k2hr3.access import NodeAccess
from trove_k2hdkc.k2hr3.errors import K2hr3Error

TOKEN = 'r0le-t0ken-s3cret'
FIELDS = {'k2hr3_url': 'https://k2hr3.example.net:18080',
          'resource_yrn': 'yrn:yahoo:::t:resource:r',
          'role_yrn': 'yrn:yahoo:::t:role:r', 'role_token': TOKEN}


def test_from_rpc_round_trips_kwargs_and_hides_the_token():
    access = NodeAccess.from_rpc(**FIELDS)
    assert access.kwargs() == FIELDS
    assert access == NodeAccess(**FIELDS)
    assert TOKEN not in repr(access)


@pytest.mark.parametrize('change', [
    {'role_token': ''}, {'k2hr3_url': None}, {'role_yrn': 7},
    {'extra': 'x'}])
def test_from_rpc_refuses_malformed_access_without_the_token(change):
    fields = dict(FIELDS, **change)
    with pytest.raises(InvalidAccessError) as info:
        NodeAccess.from_rpc(**fields)
    assert isinstance(info.value, (K2hr3Error, ValueError))
    assert TOKEN not in str(info.value)


def test_from_rpc_refuses_a_missing_field():
    fields = dict(FIELDS)
    del fields['resource_yrn']
    with pytest.raises(InvalidAccessError, match='exactly'):
        NodeAccess.from_rpc(**fields)
