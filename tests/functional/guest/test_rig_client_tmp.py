"""The rig's client node (tests/rig/slave.py) keeps chmpx's shared memory
in a private /tmp: a real slave chmpx writes ``/tmp/<GROUP>-<ctlport>
.chmpx``/``.k2h`` and left 683 MB in the host's /tmp. Runs a fake chmpx
that writes there like the real one, in a throwaway network namespace
(root only)."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import uuid

import pytest

from tests.rig import procs
from tests.rig import slave as rig_slave

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which('unshare')
    or not shutil.which('ip'), reason='needs root, ip and unshare')

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]

FAKE_CHMPX = r'''
import pathlib, signal, sys, time
conf = sys.argv[sys.argv.index('-conf') + 1]
port = sys.argv[sys.argv.index('-ctlport') + 1]
group = pathlib.Path(conf).read_text().split('GROUP = ')[1].split()[0]
for suffix in ('chmpx', 'k2h'):
    pathlib.Path('/tmp', '%s-%s.%s' % (group, port, suffix)).write_bytes(
        b'\0' * 4096)
signal.signal(signal.SIGHUP, lambda *_: sys.exit(0))
while True:
    time.sleep(1)
'''

FAKE_LINETOOL = r'''
import pathlib, sys
conf = sys.argv[sys.argv.index('-conf') + 1]
port = sys.argv[sys.argv.index('-ctlport') + 1]
group = pathlib.Path(conf).read_text().split('GROUP = ')[1].split()[0]
seen = pathlib.Path('/tmp', '%s-%s.chmpx' % (group, port)).exists()
print('"probe" => "seen"' if seen else '"probe" => value is not found')
'''


def _program(path: pathlib.Path, body: str) -> None:
    path.write_text('#!%s\n%s' % (sys.executable, body))
    path.chmod(0o755)


@pytest.fixture
def client(monkeypatch):
    # Not under /tmp, which the client node covers (as the rig's state).
    tmp_path = pathlib.Path(tempfile.mkdtemp(prefix='k2t-', dir='/var/tmp'))
    tag = uuid.uuid4().hex[:6]
    group = 'k2t%s' % tag
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    _program(bindir / 'chmpx', FAKE_CHMPX)
    _program(bindir / 'k2hdkclinetool', FAKE_LINETOOL)
    info = {'name': 'k2t' + tag, 'python': sys.executable,
            'repo_root': str(REPO_ROOT),
            'guest_path': str(bindir) + os.pathsep + os.environ['PATH'],
            'network': {'cidr': '10.250.77.0/24', 'prefixlen': 24,
                        'gateway': '10.250.77.1'}}

    def add_ns(rig, key, cidr, gateway):
        subprocess.run(['ip', 'netns', 'add', '%s-%s' % (rig, key)],
                       check=True)
        return '%s-%s' % (rig, key)

    def del_ns(rig, key):
        subprocess.run(['ip', 'netns', 'del', '%s-%s' % (rig, key)],
                       check=False, capture_output=True)
    monkeypatch.setattr(rig_slave.netns, 'create_vm_net', add_ns)
    monkeypatch.setattr(rig_slave.netns, 'delete_vm_net', del_ns)
    monkeypatch.setattr(rig_slave.RigSlave, 'render',
                        lambda self: '[GLOBAL]\nGROUP = %s\n' % group)
    monkeypatch.setattr(rig_slave, 'DETACH_WAIT', 0.2)
    node = rig_slave.RigSlave(info, 'c1', tmp_path / 'slave')
    yield node, group
    node.stop()
    leaked = list(pathlib.Path('/tmp').glob(group + '-*'))
    for path in leaked:
        path.unlink()
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.mark.timeout(120)
def test_client_node_leaves_nothing_in_the_host_tmp(client):
    node, group = client
    node.start()
    # chmpx and k2hdkclinetool see the same private /tmp
    procs.wait_until(lambda: node.values(['probe']).get('probe') == 'seen',
                     30, 'the linetool to see the shm file of chmpx')
    node.stop()
    assert list(pathlib.Path('/tmp').glob(group + '-*')) == []
    assert not node.tmp.exists()
