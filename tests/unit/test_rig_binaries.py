"""The rig's VMs and the benchmark's floor run the same data-plane
programs: the real ones when they are on PATH, else the stand-ins."""

from __future__ import annotations

import os
import pathlib

import pytest

from tests.rig import bench
from tests.rig import binaries
from tests.rig import config
from tests.rig import floor


def _fake_programs(where: pathlib.Path, names=binaries.PROGRAMS) -> str:
    where.mkdir()
    for name in names:
        exe = where / name
        exe.write_text('#!/bin/sh\necho "%s Version 9.9.9"\n' % name)
        exe.chmod(0o755)
    return str(where)


def _chosen(path: str) -> binaries.Programs:
    return binaries.Programs.on(binaries.search_path(path))


def test_real_programs_first_on_path_are_chosen(tmp_path):
    real = _fake_programs(tmp_path / 'real')
    chosen = _chosen(os.pathsep.join([real, '/usr/bin', '/bin']))
    assert chosen.real
    assert {pathlib.Path(v).parent for v in chosen.found.values()} == {
        pathlib.Path(real)}
    assert 'Version 9.9.9' in chosen.describe()[0]


def test_stand_ins_without_real_programs(tmp_path):
    chosen = _chosen('/usr/bin:/bin')
    assert not chosen.real
    assert {pathlib.Path(v).parent for v in chosen.found.values()} == {
        binaries.STANDIN_BIN}
    assert chosen.describe()[0].endswith('(stand-in)')


@pytest.mark.parametrize('names', [('chmpx',), ('chmpx', 'k2hdkc')])
def test_an_incomplete_real_set_falls_back_to_stand_ins(tmp_path, names):
    real = _fake_programs(tmp_path / 'real', names)
    chosen = _chosen(os.pathsep.join([real, '/usr/bin', '/bin']))
    assert not chosen.real
    assert str(binaries.STANDIN_BIN) in chosen.found['chmpx']


def test_stand_in_dir_on_path_is_not_taken_for_real():
    path = os.pathsep.join([str(binaries.STANDIN_BIN), '/usr/bin', '/bin'])
    assert binaries.real_programs(path) is None
    assert binaries.search_path(path).startswith(str(binaries.STANDIN_BIN))


def test_rig_guests_and_floor_use_the_same_path(tmp_path, monkeypatch):
    real = _fake_programs(tmp_path / 'real')
    monkeypatch.setenv('PATH', os.pathsep.join([real, '/usr/bin', '/bin']))
    path = config.guest_path()
    assert binaries.Programs.on(path).real
    ring = floor.Ring(tmp_path / 'ring', path, servers=1)
    assert ring.env(ring.node(1))['PATH'] == path


def test_floor_ring_ports_fit_real_chmpx(tmp_path):
    ring = floor.Ring(tmp_path / 'ring', '/bin', base_port=28020,
                      servers=2)
    ports = [p for n in ring.nodes + [ring.slave]
             for p in (n.get('port'), n['ctlport']) if p]
    assert len(set(ports)) == len(ports)
    assert max(ports) < 32768


@pytest.mark.parametrize('product, floor_secs, shown', [
    (10.0, 2.5, '4.0x'), (None, 2.5, '-'), (3.0, 0.0, '-')])
def test_ratio_of_product_to_floor(product, floor_secs, shown):
    assert bench.ratio(product, floor_secs) == shown


def test_floor_ring_resends_a_reset_control_command(tmp_path, monkeypatch):
    sent = []

    def ctl(self, num, command):
        sent.append(command)
        if len(sent) == 1:
            raise ConnectionResetError(104, 'reset by peer')
        return 'SUCCEED\n'
    monkeypatch.setattr(floor.harness.LocalRing, 'ctl', ctl)
    monkeypatch.setattr(floor.time, 'sleep', lambda s: None)
    ring = floor.Ring(tmp_path / 'ring', '/bin', servers=1)
    assert ring.ctl(1, 'MERGE') == 'SUCCEED\n'
    assert sent == ['MERGE', 'MERGE']


@pytest.mark.parametrize('command, tries', [('SELFSTATUS', 2), ('MERGE', 1)])
def test_floor_ring_asks_an_unanswered_status_query_again(
        tmp_path, monkeypatch, command, tries):
    sent = []

    def ctl(self, num, command):
        sent.append(command)
        if len(sent) == 1:
            raise TimeoutError('timed out')
        return 'SUCCEED\n'
    monkeypatch.setattr(floor.harness.LocalRing, 'ctl', ctl)
    monkeypatch.setattr(floor.time, 'sleep', lambda s: None)
    ring = floor.Ring(tmp_path / 'ring', '/bin', servers=1)
    if tries == 1:
        with pytest.raises(TimeoutError):
            ring.ctl(1, command)
    else:
        assert ring.ctl(1, command) == 'SUCCEED\n'
    assert sent == [command] * tries
