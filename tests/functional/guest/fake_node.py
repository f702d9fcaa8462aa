"""Fake chmpx and k2hdkc programs for stop-order tests.

They record when each got SIGHUP into ``$FAKE_STATE``. The fake chmpx
answers VERSION, and SELFSTATUS with ``[Suspend]`` once k2hdkc exited
if ``FAKE_SUSPEND`` is set; like real chmpx 1.0.109 it dies of SIGSEGV
when SIGHUP comes less than 1 s after k2hdkc exited (``FAKE_CRASH``:
``early``, the default; ``always``; ``never``), doc/ring-procedures.md §9.
"""

from __future__ import annotations

import pathlib
import sys
import time

FAKE_CHMPX = r'''
import os, pathlib, signal, socket, sys, time
state = pathlib.Path(os.environ['FAKE_STATE'])
port = int(sys.argv[sys.argv.index('-ctlport') + 1])

def hup(*_):
    now = time.time()
    (state / 'chmpx.hup').write_text(repr(now))
    exited = state / 'k2hdkc.exited'
    early = exited.exists() and now - float(exited.read_text()) < 1.0
    crash = os.environ.get('FAKE_CRASH', 'early')
    if crash == 'always' or (crash == 'early' and early):
        signal.signal(signal.SIGSEGV, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGSEGV)
    sys.exit(0)

signal.signal(signal.SIGHUP, hup)
srv = socket.create_server(('127.0.0.1', port))
while True:
    conn, _ = srv.accept()
    with conn:
        line = conn.makefile().readline().strip()
        gone = (state / 'k2hdkc.exited').exists()
        if line == 'SELFSTATUS':
            flag = ('[Suspend]' if gone and os.environ.get('FAKE_SUSPEND')
                    else '[NoSuspend]')
            conn.sendall(('Server Status = 0x21(SAFE -> [SERVICE IN][UP]'
                          '[n/a][Nothing]%s)\n' % flag).encode())
        else:
            conn.sendall(b'Version 1.0.109\n')
'''

FAKE_K2HDKC = r'''
import os, pathlib, signal, sys, time
state = pathlib.Path(os.environ['FAKE_STATE'])

def hup(*_):
    (state / 'k2hdkc.exited').write_text(repr(time.time()))
    sys.exit(0)

signal.signal(signal.SIGHUP, hup)
(state / 'k2hdkc.started').write_text('')
while True:
    time.sleep(1)
'''


def _program(path: pathlib.Path, body: str) -> None:
    path.write_text('#!%s\n%s' % (sys.executable, body))
    path.chmod(0o755)


def install(tmp_path: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    """The fake programs in ``<tmp>/bin``; returns it and the state
    folder they report to (``FAKE_STATE``)."""
    bindir, state = tmp_path / 'bin', tmp_path / 'state'
    bindir.mkdir()
    state.mkdir()
    _program(bindir / 'chmpx', FAKE_CHMPX)
    _program(bindir / 'k2hdkc', FAKE_K2HDKC)
    return bindir, state


def hup_gap(state: pathlib.Path) -> float:
    """Seconds from k2hdkc's exit to chmpx's SIGHUP."""
    return (float((state / 'chmpx.hup').read_text())
            - float((state / 'k2hdkc.exited').read_text()))


def wait_started(state: pathlib.Path, timeout: float = 30) -> None:
    """Until the fake k2hdkc handles SIGHUP (it says so by a file)."""
    deadline = time.monotonic() + timeout
    while not (state / 'k2hdkc.started').exists():
        if time.monotonic() >= deadline:
            raise TimeoutError('the fake k2hdkc did not start')
        time.sleep(0.05)
