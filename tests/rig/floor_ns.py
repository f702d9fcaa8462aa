"""Run the floor where the real programs work: a private host.

Why: every floor node shares 127.0.0.1 and differs by port, and real
chmpx finds its own SVRNODE entry only through a local host name that is
not ``localhost`` (the stand-ins do not care). So with real programs the
measurement runs in a child process in its own network, mount and IPC
namespaces, like a rig VM: a loopback-only network, a private
/etc/hosts that names 127.0.0.1 first with a host name of its own, a
private /tmp and /var/lib/antpickax for the shared-memory files real
chmpx leaves behind (privatefs.py), and private message queues. The
stand-ins run in-process as before (no root needed). Needs ``unshare``
(util-linux) and ``ip`` (iproute2).
"""

from __future__ import annotations

import os
import pathlib
import pickle
import shutil
import socket
import subprocess
import sys
import tempfile

from tests.rig import binaries
from tests.rig import floor
from tests.rig import netns
from tests.rig import privatefs

HOST_NAME = 'k2floor-node.example.net'
RESULT = 'floor.pickle'
# Below 32768, as real chmpx needs (floor.Ring); free in a new network.
BASE_PORT = 28020


def hosts_file() -> str:
    """127.0.0.1 under a name of its own first, then this machine's."""
    return ('127.0.0.1\t%s %s localhost\n::1\tlocalhost\n'
            % (HOST_NAME, socket.gethostname()))


def measure(keys: int, path: str) -> floor.Floor:
    """``floor.measure`` on the programs on ``path``; in namespaces of its
    own when they are the real ones."""
    if not binaries.Programs.on(path).real:
        return floor.measure(keys, path)
    # Not under /tmp: the child covers /tmp with its own.
    scratch = pathlib.Path(tempfile.mkdtemp(prefix='k2floor-',
                                            dir='/var/tmp'))
    try:
        (scratch / 'tmp').mkdir(mode=0o1777)
        (scratch / 'antpickax').mkdir()
        (scratch / 'hosts').write_text(hosts_file())
        (scratch / 'resolv.conf').write_text(netns.RESOLV_CONF)
        env = dict(os.environ, PYTHONPATH=str(binaries.REPO_ROOT))
        subprocess.run(
            ['unshare', '--net', '--mount', '--ipc', '--propagation',
             'private', sys.executable, '-m', __name__, str(keys), path,
             str(scratch)],
            check=True, env=env, cwd=binaries.REPO_ROOT,
            stdin=subprocess.DEVNULL)
        # Written by our own child just now.
        return pickle.loads((scratch / RESULT).read_bytes())  # noqa: S301
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _enter(scratch: pathlib.Path) -> None:
    """Inside the new namespaces: loopback up, private hosts, resolver,
    AntPickax state and /tmp (last: the scratch dir stays reachable under
    /var/tmp)."""
    subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=True)
    subprocess.run(['/bin/sh', '-c',
                    privatefs.bind_own_state(scratch / 'antpickax')],
                   check=True)
    for name, target in (('hosts', '/etc/hosts'),
                         ('resolv.conf', '/etc/resolv.conf'),
                         ('tmp', '/tmp')):
        subprocess.run(['mount', '--bind', str(scratch / name), target],
                       check=True)


def main(argv: list[str]) -> int:
    keys, path, scratch = int(argv[0]), argv[1], pathlib.Path(argv[2])
    _enter(scratch)
    result = floor.measure(keys, path, base_port=BASE_PORT)
    (scratch / RESULT).write_bytes(pickle.dumps(result))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
