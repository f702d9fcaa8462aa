"""Rig names and subnets of the test fixtures never meet: each slot's
session rig and the Keystone rig a static session starts beside it
(``keystone_rig``) differ in name prefix (namespaces, bridge, vhost,
databases) and subnet, across every slot."""

from __future__ import annotations

import pytest

from tests.rig import fixture
from tests.rig import netns

SLOTS = [''] + [str(n) for n in range(1, 10)]


def test_every_rig_of_every_slot_is_apart():
    rigs = [fixture.rig_identity(s) for s in SLOTS]
    rigs += [fixture.keystone_identity(s) for s in SLOTS]
    names = [name for name, _ in rigs]
    subnets = [subnet for _, subnet in rigs]
    assert len(set(names)) == len(names) == 20
    assert len(set(subnets)) == len(subnets)
    # a rig's namespaces are found by "<name>-": no name extends another
    # that way, and the lead's rig (k2rig) shares none either
    for name in names + [netns.DEFAULT_NAME]:
        others = [n for n in names + [netns.DEFAULT_NAME] if n != name]
        assert not any(o.startswith(name + '-') for o in others)
    assert '10.247.0.0/24' not in subnets
    assert all(len(netns.bridge_name(n)) <= 15 for n in names)


def test_keystone_rig_of_slot_2():
    assert fixture.keystone_identity('2') == ('k2rigk2', '10.247.22.0/24')
    assert fixture.keystone_identity('') == ('k2rigk', '10.247.20.0/24')


def test_bad_slot_is_refused_for_the_keystone_rig_too():
    with pytest.raises(ValueError):
        fixture.keystone_identity('10')
