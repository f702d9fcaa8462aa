"""Every rig node (VM, client) keeps the AntPickax state folder to itself:
real chmpx puts its shared memory there when the host has the folder, and
members sharing it never attach their k2hdkc (tests/rig/privatefs.py)."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from tests.rig import floor_ns
from tests.rig import privatefs
from tests.rig import slave
from tests.rig import vm

needs_mount_ns = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which('unshare'),
    reason='needs root and unshare for a private mount namespace')


def _in_own_mount_ns(script: str) -> None:
    subprocess.run(['unshare', '-m', '--propagation', 'private',
                    '/bin/sh', '-c', script], check=True, timeout=30)


@needs_mount_ns
def test_node_writes_land_in_its_own_folder(tmp_path):
    shared, own = tmp_path / 'host-antpickax', tmp_path / 'own'
    shared.mkdir()
    own.mkdir()
    _in_own_mount_ns('set -e\n%s\ntouch %s/k2hdkc-c1-8021.chmpx'
                     % (privatefs.bind_own_state(own, str(shared)), shared))
    assert not (shared / 'k2hdkc-c1-8021.chmpx').exists()
    assert (own / 'k2hdkc-c1-8021.chmpx').exists()


@needs_mount_ns
def test_nothing_is_created_on_a_host_without_the_folder(tmp_path):
    shared, own = tmp_path / 'absent', tmp_path / 'own'
    own.mkdir()
    _in_own_mount_ns('set -e\n' + privatefs.bind_own_state(own, str(shared)))
    assert not shared.exists()


def _info(tmp_path: pathlib.Path) -> dict:
    return {'repo_root': str(tmp_path / 'repo'), 'python': sys.executable,
            'guest_paths': {'mount_point': str(tmp_path / 'data'),
                            'conf_dir': str(tmp_path / 'conf')},
            'network': {'cidr': '10.247.9.0/24'}}


def test_vm_binds_its_own_state_before_the_agent_starts(tmp_path):
    root = tmp_path / 'vm'
    lines = vm._mount_script(root, _info(tmp_path),
                             tmp_path / 'data').splitlines()
    bind = privatefs.bind_own_state(root / 'antpickax')
    assert bind in lines
    assert lines.index(bind) < next(
        n for n, line in enumerate(lines) if line.startswith('exec '))


def test_client_node_binds_its_own_state_for_chmpx_and_linetool(tmp_path):
    client = slave.RigSlave(_info(tmp_path), 'c1', tmp_path / 'slave')
    client.ns = 'k2rigt-slave'
    argv = client._in_node(['k2hdkclinetool'])
    script = argv[argv.index('-c') + 1]
    assert privatefs.bind_own_state(client.antpickax) in script.splitlines()


def test_floor_binds_its_own_state(tmp_path, monkeypatch):
    ran = []
    monkeypatch.setattr(floor_ns.subprocess, 'run',
                        lambda argv, **kw: ran.append(argv))
    floor_ns._enter(tmp_path)
    assert ['/bin/sh', '-c',
            privatefs.bind_own_state(tmp_path / 'antpickax')] in ran
