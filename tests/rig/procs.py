"""Start and stop the rig's long-running processes.

Each process runs in its own session (process group) and leaves a pid file,
so ``down`` can stop it and all its children even when the process that
started it has crashed.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
import os
import pathlib
import signal
import socket
import subprocess
import time


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        stat = pathlib.Path('/proc/%d/stat' % pid).read_text()
    except OSError:
        return False
    return stat.rsplit(')', 1)[1].split()[0] != 'Z'


def reap(pid: int) -> None:
    """Collect ``pid`` if it is our child (avoids zombies in long runs)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def spawn(cmd: Sequence[str], log: pathlib.Path, pidfile: pathlib.Path,
          env: Mapping[str, str] | None = None,
          cwd: str | None = None) -> int:
    """Start ``cmd`` in a new session, output to ``log``; return its pid."""
    with open(log, 'ab') as out:
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=out,
                                stdin=subprocess.DEVNULL, env=dict(env or
                                                                   os.environ),
                                cwd=cwd, start_new_session=True)
    pidfile.write_text('%d\n' % proc.pid)
    return proc.pid


def _group_gone(pid: int, timeout: float) -> bool:
    """Reap ``pid`` until it and its group are gone, or ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reap(pid)
        if not alive(pid) and not _group_members(pid):
            return True
        time.sleep(0.2)
    return False


def stop_group(pid: int, timeout: float = 10.0) -> None:
    """TERM the process group led by ``pid``, then KILL what remains."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            reap(pid)
            return
        if _group_gone(pid, timeout):
            return


def kill_group(pid: int, timeout: float = 10.0) -> None:
    """SIGKILL the process group led by ``pid`` and reap it."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _group_gone(pid, timeout)


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in pathlib.Path('/proc').iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / 'stat').read_text().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != 'Z':
            members.append(int(entry.name))
    return members


def kill_pids(pids: Sequence[int], timeout: float = 5.0) -> None:
    """TERM then KILL individual pids (processes of a VM namespace)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for pid in pids:
                reap(pid)
            if not any(alive(p) for p in pids):
                return
            time.sleep(0.2)


def stop_pidfile(pidfile: pathlib.Path) -> None:
    """Stop the process group named by ``pidfile`` and remove the file."""
    if not pidfile.exists():
        return
    text = pidfile.read_text().strip()
    if text.isdigit():
        stop_group(int(text))
    pidfile.unlink(missing_ok=True)


def tcp_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(check: Callable[[], bool], timeout: float, what: str,
               interval: float = 0.5) -> None:
    """Poll ``check`` until true; RuntimeError naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise RuntimeError('timed out after %.0fs waiting for %s'
                       % (timeout, what))
