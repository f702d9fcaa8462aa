"""The Docker runtime's entrypoint script, run for real by bash with fake
chmpx/k2hdkc programs: the stop order and the wait before chmpx's SIGHUP
(chmpx 1.0.109 can crash on a SIGHUP right after k2hdkc detached,
doc/ring-procedures.md §9)."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from tests.functional.guest import fake_node
from tests.standins.dataplane import harness
from trove_k2hdkc.guest.runtime import docker as drt


def run_and_stop(tmp_path, detach_wait: float, **env: str):
    """Start the entrypoint, SIGHUP it once k2hdkc runs (what ``docker
    stop`` does); returns (exit code, stderr, seconds from k2hdkc's exit
    to chmpx's SIGHUP)."""
    bindir, state = fake_node.install(tmp_path)
    argv = drt.entrypoint('/dev/null', harness.free_port(), detach_wait,
                          run_dir=str(tmp_path / 'run'))
    proc = subprocess.Popen(
        argv, stderr=subprocess.PIPE, text=True, env=dict(
            os.environ, PATH=str(bindir) + os.pathsep + os.environ['PATH'],
            FAKE_STATE=str(state), **env))
    try:
        fake_node.wait_started(state)
        proc.send_signal(signal.SIGHUP)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, err, fake_node.hup_gap(state)


@pytest.mark.timeout(60)
def test_chmpx_gets_sighup_only_after_the_detach_wait(tmp_path):
    """chmpx never reports [Suspend]: SIGHUP waits the whole bound."""
    code, err, gap = run_and_stop(tmp_path, detach_wait=1.0)
    assert code == 0
    assert gap >= 0.9
    assert 'crashed' not in err


@pytest.mark.timeout(60)
def test_chmpx_that_reports_suspend_is_stopped_at_once(tmp_path):
    code, _, gap = run_and_stop(tmp_path, detach_wait=5.0, FAKE_SUSPEND='1',
                                FAKE_CRASH='never')
    assert code == 0
    assert 0 < gap < 4.0


@pytest.mark.timeout(60)
def test_chmpx_crash_on_sighup_counts_as_stopped(tmp_path):
    code, err, _ = run_and_stop(tmp_path, detach_wait=0.2, FAKE_CRASH='always')
    assert code == 0
    assert 'crashed (SIGSEGV) while stopping' in err
