"""Rig tests skip, naming every missing prerequisite the README lists."""

from __future__ import annotations

import shutil

import pytest

from tests.rig import fixture
from tests.rig import services


@pytest.fixture
def machine(monkeypatch):
    """A machine with everything; tests take things away."""
    have = {'ip', 'unshare', 'rabbitmq-server', 'rabbitmqctl', 'mariadb'}
    monkeypatch.setattr(fixture.os, 'geteuid', lambda: 0)
    monkeypatch.setattr(shutil, 'which',
                        lambda name, *a, **k: '/x/' + name
                        if name in have else None)
    monkeypatch.setattr(services, 'mariadb_available', lambda: True)
    return have


def test_nothing_missing(machine):
    assert fixture.rig_unavailable() is None


def test_every_missing_prerequisite_is_named(machine, monkeypatch):
    monkeypatch.setattr(fixture.os, 'geteuid', lambda: 1000)
    machine.discard('unshare')
    machine.discard('rabbitmqctl')
    monkeypatch.setattr(services, 'mariadb_available', lambda: False)
    reason = fixture.rig_unavailable()
    for what in ('root', 'unshare (util-linux)', 'RabbitMQ', 'MariaDB'):
        assert what in reason
    assert 'iproute2' not in reason

