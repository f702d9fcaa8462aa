"""Reading codes from the guest's node_status shape."""

from __future__ import annotations

import pytest

from trove_k2hdkc.cluster import ringstate as rs


def reply(code, ring=()):
    return {'self': {'name': '10.0.0.1', 'status': {'code': code}},
            'ring': list(ring), 'runtime': {'chmpx': True}}


@pytest.mark.parametrize('code', [0x1021, '0x1021', '4129'])
def test_self_code_accepts_int_and_text(code):
    assert rs.self_code(reply(code)) == 0x1021


def test_self_code_none_when_chmpx_down():
    assert rs.self_code({'self': None, 'ring': []}) is None


def test_bad_code_is_refused():
    with pytest.raises(rs.StatusShapeError):
        rs.self_code(reply('up'))


def test_ring_code_by_seed_or_name():
    ring = [{'name': '10.0.0.2', 'ctlport': 8021, 'custom_id_seed': 'b',
             'status': {'code': 0x10}}]
    assert rs.ring_code(reply(0x21, ring), 'b') == 0x10
    assert rs.ring_code(reply(0x21, ring), 'x', '10.0.0.2') == 0x10
    assert rs.ring_code(reply(0x21, ring), 'x', '10.0.0.9') is None
