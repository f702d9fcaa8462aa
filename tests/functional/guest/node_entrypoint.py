"""Runs ``guestagent/k2hdkc-node`` (the database container's entrypoint)
with bash on one data-plane stand-in node, outside Docker.

A wrapper ``k2hdkc`` in front of the stand-in records whether chmpx's
control port answered when k2hdkc was started (the start order).
"""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys

from tests.conftest import REPO_ROOT
from tests.standins.dataplane import harness

ENTRYPOINT = REPO_ROOT / 'guestagent' / 'k2hdkc-node'

_WRAPPER = r'''
import os, socket, sys
port = int(sys.argv[sys.argv.index('-ctlport') + 1])
try:
    with socket.create_connection(('127.0.0.1', port), 2) as s:
        s.sendall(b'VERSION\n')
        answered = bool(s.recv(64))
except OSError:
    answered = False
with open(os.environ['NODE_TEST_STARTS'], 'a') as f:
    f.write('k2hdkc chmpx_answered=%s\n' % answered)
os.execv(os.environ['NODE_TEST_K2HDKC'], ['k2hdkc'] + sys.argv[1:])
'''


def _container_signals() -> None:
    """Starts the entrypoint with the stop signals at their defaults, as
    a container's first process starts: bash cannot trap a signal that
    was ignored when it started, and a test run may inherit SIGINT
    ignored (a CI run did, and every SIGINT stop then timed out)."""
    for sig in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


class Node:
    """The entrypoint on node 1 of a one-server stand-in ring."""

    def __init__(self, tmp_path: pathlib.Path, detach_wait_ms: int = 2000):
        self.ring = harness.LocalRing(tmp_path / 'ring', servers=1)
        self.ring.write_configs([1])
        node = self.ring.node(1)
        self.run_dir = tmp_path / 'run'
        self.starts = tmp_path / 'starts.txt'
        self.log = tmp_path / 'entrypoint.log'
        wrap = tmp_path / 'wrap'
        wrap.mkdir()
        (wrap / 'k2hdkc').write_text('#!%s\n%s' % (sys.executable, _WRAPPER))
        (wrap / 'k2hdkc').chmod(0o755)
        env = self.ring.env(node)
        env.update(PATH=str(wrap) + os.pathsep + env['PATH'],
                   NODE_TEST_STARTS=str(self.starts),
                   NODE_TEST_K2HDKC=str(harness.BIN_DIR / 'k2hdkc'),
                   K2HDKC_INI=str(node['ini']),
                   K2HDKC_CTLPORT=str(node['ctlport']),
                   K2HDKC_RUN_DIR=str(self.run_dir),
                   K2HDKC_DETACH_WAIT_MS=str(detach_wait_ms))
        with open(self.log, 'wb') as log:
            self.proc = subprocess.Popen(['bash', str(ENTRYPOINT)], env=env,
                                         stdout=log, stderr=log,
                                         stdin=subprocess.DEVNULL,
                                         preexec_fn=_container_signals)

    def pid(self, prog: str) -> int:
        return int((self.run_dir / ('%s.pid' % prog)).read_text())

    def k2hdkc_attached(self) -> bool:
        try:
            return not self.ring.self_code(1) & harness.SUSPEND
        except (OSError, IndexError):
            return False

    def wait_running(self) -> int:
        """Until k2hdkc is attached to chmpx; returns k2hdkc's pid."""
        harness.wait_for(lambda: self.proc.poll() is not None
                         or self.k2hdkc_attached(), 30, 'k2hdkc attached')
        assert self.proc.poll() is None, self.output()
        return self.pid('k2hdkc')

    def stop(self, sig: int = signal.SIGHUP) -> int:
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            log = self.output()
            raise AssertionError('the entrypoint did not stop on signal %d;'
                                 ' its log:\n%s' % (sig, log)) from None

    def output(self) -> str:
        return self.log.read_text()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for prog in ('k2hdkc', 'chmpx'):
            try:
                os.kill(self.pid(prog), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        self.ring.close()

    def __enter__(self) -> Node:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False
