"""chmpx + k2hdkc as local processes supervised by the guest agent.

Why pid files: the agent may be killed and restarted at any time (Trove
restarts it, an operator does); a restarted agent must adopt the running
processes instead of starting a second chmpx on the same ports.  A pid file
holds ``<pid> <start time>`` so a recycled pid is never mistaken for ours.

Why SIGHUP: chmpx blocks SIGTERM
(tests/data/reference/k2hdkc/lifecycle_signals.txt);
k2hdkc is stopped first so chmpx goes ``[Suspend]`` before it leaves.

Why chmpx is stopped in one place only (``_stop_chmpx``): chmpx 1.0.109
can crash with SIGSEGV when SIGHUP comes less than about 1 s after its last
client detached (doc/ring-procedures.md §9). Every path that ends chmpx
(stop, restart_chmpx, upgrade, the restarts the service asks for) first
waits until chmpx reports the detach, and takes such a crash for the stop
it was asked for.
"""

from __future__ import annotations

from collections.abc import Callable
import json
import os
import pathlib
import shutil
import signal
import subprocess
import threading
import time

from oslo_log import log as logging

from trove_k2hdkc.guest import errors
from trove_k2hdkc.guest.fileutil import atomic_write
from trove_k2hdkc.guest.runtime.base import CHMPX
from trove_k2hdkc.guest.runtime.base import K2HDKC

LOG = logging.getLogger(__name__)

_STATE_FILE = 'node-state.json'
_POLL = 0.05
_REAP_WAIT = 2.0
_SIGSEGV_EXITS = (-signal.SIGSEGV, 128 + signal.SIGSEGV)


def wait_detached(detached: Callable[[], bool] | None, limit: float, *,
                  clock: Callable[[], float] = time.monotonic,
                  sleep: Callable[[float], None] = time.sleep,
                  poll: float = 0.1) -> bool:
    """Until ``detached()`` is true or ``limit`` seconds passed; True when
    chmpx said so. Without ``detached`` the whole ``limit`` is waited:
    the crash window closes by itself after about 1 s
    (doc/ring-procedures.md §9)."""
    deadline = clock() + limit
    while True:
        if detached is not None and detached():
            return True
        remaining = deadline - clock()
        if remaining <= 0:
            return False
        sleep(min(poll, remaining))


def _proc_start_time(pid: int) -> str | None:
    """Field 22 of /proc/<pid>/stat, or None if gone or a zombie."""
    try:
        raw = pathlib.Path('/proc/%d/stat' % pid).read_text()
    except OSError:
        return None
    fields = raw.rpartition(')')[2].split()
    if not fields or fields[0] in ('Z', 'X'):
        return None
    return fields[19]


def _cmdline(pid: int, settle: float = 1.0) -> list[str]:
    """argv of ``pid``; [] when it is gone.

    While a process is inside execve (a script starting through
    ``env``/interpreter shims execs several times) its cmdline reads empty
    for a moment: wait for it to settle instead of disowning the process.
    """
    deadline = time.monotonic() + settle
    while True:
        try:
            raw = pathlib.Path('/proc/%d/cmdline' % pid).read_bytes()
        except OSError:
            return []
        if raw or time.monotonic() >= deadline:
            return raw.decode(errors='replace').split('\0') if raw else []
        time.sleep(_POLL)


class _Proc:
    def __init__(self, pid: int, start_time: str,
                 popen: subprocess.Popen | None = None) -> None:
        self.pid = pid
        self.start_time = start_time
        self.popen = popen
        self.started_at = time.monotonic()

    def alive(self) -> bool:
        if self.popen is not None and self.popen.poll() is not None:
            return False
        return _proc_start_time(self.pid) == self.start_time

    def signal(self, sig: int) -> None:
        if self.alive():
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def exit_status(self) -> int | None:
        """Exit status of a child that ended; None for an adopted
        process (not our child: its status cannot be known).

        A multi-threaded process (chmpx) shows as a zombie before its
        last thread is gone and only then can be reaped: wait a moment.
        """
        if self.popen is None:
            return None
        try:
            return self.popen.wait(_REAP_WAIT)
        except subprocess.TimeoutExpired:
            return None

    def wait(self, timeout: float) -> bool:
        """True when the process is gone within ``timeout``."""
        deadline = time.monotonic() + timeout
        while self.alive():
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL)
        return True


class ProcessRuntime:
    """Runs ``<bin> -conf <ini> -ctlport <ctlport> [-d err]``.

    :param ready: returns True once chmpx answers on its control port
        (the service passes a VERSION probe); k2hdkc starts only then.
    :param detached: returns True once chmpx reports ``[Suspend]`` (no
        k2hdkc attached); chmpx gets SIGHUP only then, or after
        ``detach_wait`` seconds.
    :param env: environment of both processes (PATH finds the binaries).
    """

    def __init__(self, ini_path: str | os.PathLike, ctlport: int, *,
                 run_dir: str | os.PathLike, log_dir: str | os.PathLike,
                 chmpx_binary: str = CHMPX, k2hdkc_binary: str = K2HDKC,
                 ready: Callable[[], bool] | None = None,
                 detached: Callable[[], bool] | None = None,
                 detach_wait: float = 2.0,
                 env: dict[str, str] | None = None,
                 extra_args: tuple[str, ...] = ('-d', 'err'),
                 start_timeout: float = 30.0, stop_timeout: float = 10.0,
                 supervise_interval: float = 1.0,
                 max_backoff: float = 30.0) -> None:
        self.ini_path = str(ini_path)
        self.ctlport = ctlport
        self.run_dir = pathlib.Path(run_dir)
        self.log_dir = pathlib.Path(log_dir)
        self.binaries = {CHMPX: chmpx_binary, K2HDKC: k2hdkc_binary}
        self.ready = ready
        self.detached = detached
        self.detach_wait = detach_wait
        self.env = dict(os.environ if env is None else env)
        self.extra_args = tuple(extra_args)
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.interval = supervise_interval
        self.max_backoff = max_backoff
        self._lock = threading.RLock()
        self._procs: dict[str, _Proc | None] = {CHMPX: None, K2HDKC: None}
        self._backoff = {CHMPX: 0.0, K2HDKC: 0.0}
        self._next_try = {CHMPX: 0.0, K2HDKC: 0.0}
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self.restarts = {CHMPX: 0, K2HDKC: 0}
        self._adopt()

    # -- persistent state -----

    def _pid_file(self, name: str) -> pathlib.Path:
        return self.run_dir / ('%s.pid' % name)

    def log_file(self, name: str) -> pathlib.Path:
        return self.log_dir / ('%s.log' % name)

    def _state(self) -> dict[str, bool]:
        try:
            data = json.loads((self.run_dir / _STATE_FILE).read_text())
            return {CHMPX: bool(data[CHMPX]), K2HDKC: bool(data[K2HDKC])}
        except (OSError, ValueError, KeyError, TypeError):
            return {CHMPX: False, K2HDKC: False}

    def _set_state(self, chmpx: bool, k2hdkc: bool) -> None:
        atomic_write(self.run_dir / _STATE_FILE,
                     json.dumps({CHMPX: chmpx, K2HDKC: k2hdkc}).encode())

    def _adopt(self) -> None:
        """Take over processes a previous agent started (pid files)."""
        for name in (CHMPX, K2HDKC):
            try:
                pid_s, start = self._pid_file(name).read_text().split()
                proc = _Proc(int(pid_s), start)
            except (OSError, ValueError):
                continue
            if proc.alive() and self._is_ours(proc.pid, name):
                LOG.info('Adopted running %s (pid %d).', name, proc.pid)
                self._procs[name] = proc
            else:
                LOG.info('%s of pid file %s is gone; not adopting it.',
                         name, self._pid_file(name))
                self._pid_file(name).unlink(missing_ok=True)

    def _is_ours(self, pid: int, name: str) -> bool:
        args = _cmdline(pid)
        return self.ini_path in args and str(self.ctlport) in args and any(
            os.path.basename(a) == os.path.basename(self.binaries[name])
            for a in args)

    # -- queries -----

    def _alive(self, name: str) -> bool:
        proc = self._procs[name]
        return proc is not None and proc.alive()

    def running(self) -> dict[str, bool]:
        with self._lock:
            return {CHMPX: self._alive(CHMPX), K2HDKC: self._alive(K2HDKC)}

    def is_running(self) -> bool:
        return all(self.running().values())

    def wanted(self) -> bool:
        return self._state()[CHMPX]

    def wanted_k2hdkc(self) -> bool:
        return self._state()[K2HDKC]

    def pid(self, name: str) -> int | None:
        proc = self._procs[name]
        return proc.pid if proc is not None and proc.alive() else None

    # -- start / stop -----

    def _spawn(self, name: str) -> _Proc:
        binary = shutil.which(self.binaries[name],
                              path=self.env.get('PATH', os.defpath))
        if binary is None:
            raise errors.RuntimeStartError(
                '%s executable %r not found on PATH'
                % (name, self.binaries[name]))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        argv = [binary, '-conf', self.ini_path, '-ctlport',
                str(self.ctlport), *self.extra_args]
        with open(self.log_file(name), 'ab') as log:
            popen = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                env=self.env, close_fds=True, start_new_session=True)
        start = _proc_start_time(popen.pid) or ''
        proc = _Proc(popen.pid, start, popen)
        atomic_write(self._pid_file(name),
                     ('%d %s\n' % (popen.pid, start)).encode())
        self._procs[name] = proc
        LOG.info('Started %s (pid %d): %s', name, popen.pid, ' '.join(argv))
        return proc

    def _start_chmpx(self) -> None:
        proc = self._spawn(CHMPX)
        deadline = time.monotonic() + self.start_timeout
        while self.ready is not None and not self.ready():
            if not proc.alive():
                raise errors.RuntimeStartError(
                    'chmpx exited at start; see %s' % self.log_file(CHMPX))
            if time.monotonic() >= deadline:
                raise errors.RuntimeStartError(
                    'chmpx did not answer on control port %d within %.0f s'
                    % (self.ctlport, self.start_timeout))
            time.sleep(0.1)

    def _stop(self, name: str) -> bool:
        """Stop ``name``; False when it needed SIGKILL."""
        proc = self._procs[name]
        graceful = True
        if proc is not None and proc.alive():
            LOG.info('Stopping %s (pid %d) with SIGHUP.', name, proc.pid)
            proc.signal(signal.SIGHUP)
            if not proc.wait(self.stop_timeout):
                LOG.warning('%s (pid %d) ignored SIGHUP for %.0f s; '
                            'killing it.', name, proc.pid, self.stop_timeout)
                graceful = False
                proc.signal(signal.SIGKILL)
                if not proc.wait(self.stop_timeout):
                    raise errors.RuntimeStopError(
                        '%s (pid %d) survived SIGKILL' % (name, proc.pid))
        if proc is not None:
            _log_exit(name, proc)
        self._procs[name] = None
        self._pid_file(name).unlink(missing_ok=True)
        return graceful

    def _stop_chmpx(self) -> None:
        """The one way chmpx is stopped (k2hdkc must be stopped already):
        SIGHUP only once chmpx reports the detach, or after
        ``detach_wait`` (doc/ring-procedures.md §9)."""
        if self._alive(CHMPX):
            if not wait_detached(self.detached, self.detach_wait):
                LOG.info('chmpx did not report [Suspend] within %.1f s of '
                         'k2hdkc stopping; stopping it anyway.',
                         self.detach_wait)
        self._stop(CHMPX)

    def _stop_both(self) -> None:
        self._stop(K2HDKC)
        self._stop_chmpx()

    def start(self) -> None:
        with self._lock:
            self._set_state(True, True)
            if not self._alive(CHMPX):
                # A k2hdkc never re-attaches to a new chmpx.
                self._stop(K2HDKC)
                self._start_chmpx()
            if not self._alive(K2HDKC):
                self._spawn(K2HDKC)
        self._ensure_supervisor()

    def stop(self) -> None:
        with self._lock:
            self._set_state(False, False)
            self._stop_both()

    def stop_k2hdkc(self) -> bool:
        with self._lock:
            self._set_state(self.wanted(), False)
            return self._stop(K2HDKC)

    def restart_chmpx(self) -> None:
        with self._lock:
            self._set_state(True, False)
            self._stop_both()
            self._start_chmpx()
        self._ensure_supervisor()

    def start_k2hdkc(self) -> None:
        with self._lock:
            if not self._alive(CHMPX):
                raise errors.RuntimeStartError(
                    'cannot start k2hdkc: chmpx is not running')
            self._set_state(True, True)
            if not self._alive(K2HDKC):
                self._spawn(K2HDKC)
        self._ensure_supervisor()

    def restart_k2hdkc(self) -> None:
        with self._lock:
            self.stop_k2hdkc()
            self.start_k2hdkc()

    def resume(self) -> None:
        """After a VM or agent restart nothing supervises the node until
        an RPC starts it: do what the supervisor would, then supervise."""
        if not self.wanted():
            return
        try:
            with self._lock:
                if not self._alive(CHMPX):
                    LOG.info('The node ran before this agent started but '
                             'chmpx does not run; starting it.')
                self.check_once()
        finally:
            self._ensure_supervisor()

    def upgrade(self, version: str) -> None:
        """The packages already installed the new binaries; a restart of
        both processes runs them."""
        LOG.info('Restarting chmpx and k2hdkc for datastore version %s.',
                 version)
        self.stop()
        self.start()

    def poke_shm(self, path: str) -> None:
        try:
            with open(path, 'rb'):
                pass
        except OSError as exc:
            LOG.debug('Could not poke %s: %s', path, exc)

    # -- supervision -----

    def _ensure_supervisor(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._closing.clear()
            self._thread = threading.Thread(
                target=self._supervise, name='k2hdkc-supervisor',
                daemon=True)
            self._thread.start()

    def _supervise(self) -> None:
        while not self._closing.wait(self.interval):
            try:
                self.check_once()
            except errors.GuestNodeError as exc:
                LOG.warning('Supervisor could not restart the node: %s',
                            exc)
            except Exception:  # keep supervising whatever happened
                LOG.exception('Supervisor check failed.')

    def _due(self, name: str) -> bool:
        now = time.monotonic()
        if now < self._next_try[name]:
            return False
        proc = self._procs[name]
        if proc is not None and now - proc.started_at > self.max_backoff:
            self._backoff[name] = 0.0
        delay = self._backoff[name]
        self._backoff[name] = min(max(delay * 2, self.interval),
                                  self.max_backoff)
        self._next_try[name] = now + self._backoff[name]
        return True

    def check_once(self) -> None:
        """Restart what crashed (with backoff); one pass of the thread."""
        with self._lock:
            state = self._state()
            if not state[CHMPX]:
                return
            if not self._alive(CHMPX):
                if self._due(CHMPX):
                    LOG.warning('chmpx is not running; restarting chmpx and '
                                'k2hdkc.')
                    self.restarts[CHMPX] += 1
                    self._stop(K2HDKC)
                    self._start_chmpx()
                    if state[K2HDKC]:
                        self._spawn(K2HDKC)
            elif state[K2HDKC] and not self._alive(K2HDKC):
                if self._due(K2HDKC):
                    LOG.warning('k2hdkc is not running; restarting it.')
                    self.restarts[K2HDKC] += 1
                    self._spawn(K2HDKC)

    def close(self) -> None:
        """Stop the supervisor thread; processes keep running."""
        self._closing.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.interval + self.start_timeout)
        self._thread = None


def _log_exit(name: str, proc: _Proc) -> None:
    """Say how a stopped process ended. A chmpx that died of SIGSEGV
    after SIGHUP hit the known shutdown race (doc/ring-procedures.md §9):
    it is stopped, which is what was asked."""
    status = proc.exit_status()
    if status is None:
        LOG.info('%s (pid %d) stopped.', name, proc.pid)
    elif status in _SIGSEGV_EXITS:
        LOG.warning('%s (pid %d) crashed with SIGSEGV while stopping (the '
                    'chmpx shutdown race); it is stopped.', name, proc.pid)
    else:
        LOG.info('%s (pid %d) stopped with exit status %d.', name,
                 proc.pid, status)
