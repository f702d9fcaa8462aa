"""A rig VM keeps one mount and IPC world across an agent restart, as a
real VM does: the agent started again after ``kill_agent`` must reach the
POSIX message queues and shared memory of the chmpx/k2hdkc that survived
it (tests/rig/vm.py)."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

import pytest

from tests.rig import netns
from tests.rig import procs
from tests.rig import vm

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not all(shutil.which(t) for t in
                                 ('ip', 'unshare', 'nsenter')),
    reason='needs root, ip, unshare and nsenter')

# The stand-in agent: records its namespaces, and at first boot starts a
# "chmpx" in a session of its own (it outlives the agent, as chmpx does).
FAKE_AGENT = '''#!/bin/sh
readlink /proc/self/ns/ipc > {out}/agent-ipc.$$
readlink /proc/self/ns/mnt > {out}/agent-mnt.$$
if [ ! -e {out}/survivor.pid ]; then
  setsid sleep 600 </dev/null >/dev/null 2>&1 &
  echo $! > {out}/survivor.pid
fi
exec sleep 600
'''


@pytest.fixture
def rig_vm(tmp_path):
    name, key = 'k2ut%d' % (os.getpid() % 10000), 'n1'
    ns = netns.ns_name(name, key)
    subprocess.run(['ip', 'netns', 'add', ns], check=True)
    python = tmp_path / 'python'
    python.write_text(FAKE_AGENT.format(out=tmp_path))
    python.chmod(0o755)
    info = {'name': name, 'python': str(python),
            'repo_root': str(tmp_path), 'state_dir': str(tmp_path),
            'guest_path': os.environ.get('PATH', '/usr/bin:/bin')}
    root = vm.vm_root(tmp_path, key)
    (root / 'etc/trove/conf.d').mkdir(parents=True)
    # boot's scripts without its binds (they need the rig's folders)
    (root / vm.BOOT_SCRIPT).write_text('echo boot >> %s/boots\n%s' % (
        tmp_path, vm._agent_line(root, info)))
    (root / vm.AGENT_SCRIPT).write_text(vm._agent_script(root, info))
    yield tmp_path, info, key
    procs.stop_pidfile(root / 'agent.pid')
    procs.kill_pids(netns.ns_pids(ns))
    subprocess.run(['ip', 'netns', 'del', ns], check=False)


def _namespaces(out: pathlib.Path, pid: int) -> tuple[str, str]:
    procs.wait_until(lambda: (out / ('agent-mnt.%d' % pid)).exists(), 30,
                     'agent %d to start' % pid)
    return ((out / ('agent-ipc.%d' % pid)).read_text().strip(),
            (out / ('agent-mnt.%d' % pid)).read_text().strip())


def test_restarted_agent_joins_the_namespaces_of_surviving_processes(
        rig_vm):
    state, info, key = rig_vm
    first = vm.start_agent(state, info, key)
    booted = _namespaces(state, first)
    survivor = int((state / 'survivor.pid').read_text())
    vm.kill_agent(state, key)
    assert procs.alive(survivor)

    again = vm.start_agent(state, info, key)

    assert _namespaces(state, again) == booted
    assert booted[0] != os.readlink('/proc/self/ns/ipc')
    assert (state / 'boots').read_text() == 'boot\n'   # no new mounts


def test_agent_gets_fresh_namespaces_when_nothing_of_the_vm_survived(
        rig_vm):
    state, info, key = rig_vm
    first = vm.start_agent(state, info, key)
    _namespaces(state, first)
    vm.crash(state, info['name'], key)

    again = vm.start_agent(state, info, key)

    fresh = _namespaces(state, again)
    # booted again: new namespaces, the VM's folders bound anew (the
    # kernel may give a new namespace a freed one's number)
    assert (state / 'boots').read_text() == 'boot\nboot\n'
    assert fresh[0] != os.readlink('/proc/self/ns/ipc')
    assert fresh[1] != os.readlink('/proc/self/ns/mnt')
