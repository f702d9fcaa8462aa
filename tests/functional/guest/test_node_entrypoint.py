"""guestagent/k2hdkc-node against the data-plane stand-ins: chmpx answers
before k2hdkc starts; a stop takes k2hdkc down first and waits for
[Suspend] so chmpx survives its SIGHUP (the stand-in crashes like chmpx
1.0.109 otherwise, doc/ring-procedures.md §9); a crash of either program
stops the other and ends the container with 1; a held k2hdkc (the guest
agent's stop_k2hdkc) is not a crash."""

from __future__ import annotations

import os
import signal

import pytest

from tests.functional.guest.node_entrypoint import Node
from tests.functional.guest.node_entrypoint import gone
from tests.standins.dataplane import harness

pytestmark = pytest.mark.timeout(120)


def test_k2hdkc_starts_only_once_chmpx_answers(tmp_path):
    with Node(tmp_path) as node:
        node.wait_running()
        assert node.starts.read_text() == 'k2hdkc chmpx_answered=True\n'
        out = node.output()
        assert out.index('chmpx control port') < out.index('k2hdkc started')


def test_stop_takes_k2hdkc_down_first_and_chmpx_survives(tmp_path):
    with Node(tmp_path) as node:
        node.wait_running()
        chmpx, k2hdkc = node.pid('chmpx'), node.pid('k2hdkc')
        assert node.stop() == 0
        out = node.output()
        assert out.index('k2hdkc stopped') < out.index('chmpx stopped (0)')
        assert 'crashed' not in out
        assert gone(chmpx) and gone(k2hdkc)


def test_without_the_detach_wait_chmpx_crashes_yet_counts_as_stopped(
        tmp_path):
    """The wait is what avoids the crash: with none, the stand-in dies of
    SIGSEGV like the real chmpx, and the stop still ends with 0."""
    with Node(tmp_path, detach_wait_ms=0) as node:
        node.wait_running()
        assert node.stop() == 0
        assert 'chmpx crashed (SIGSEGV) while stopping' in node.output()


@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGINT])
def test_term_and_int_stop_the_same_way(tmp_path, sig):
    with Node(tmp_path) as node:
        node.wait_running()
        assert node.stop(sig) == 0
        assert 'chmpx stopped (0)' in node.output()


def test_k2hdkc_crash_stops_chmpx_and_exits_non_zero(tmp_path):
    with Node(tmp_path) as node:
        k2hdkc = node.wait_running()
        chmpx = node.pid('chmpx')
        os.kill(k2hdkc, signal.SIGKILL)
        assert node.proc.wait(60) == 1
        out = node.output()
        assert 'k2hdkc exited (137)' in out
        assert 'chmpx stopped (0)' in out
        assert gone(chmpx)


def test_chmpx_crash_stops_k2hdkc_and_exits_non_zero(tmp_path):
    with Node(tmp_path) as node:
        k2hdkc = node.wait_running()
        os.kill(node.pid('chmpx'), signal.SIGKILL)
        assert node.proc.wait(60) == 1
        assert 'chmpx exited (137)' in node.output()
        assert gone(k2hdkc)


def test_held_k2hdkc_is_not_a_crash_and_restarts_when_released(tmp_path):
    """What DockerRuntime.stop_k2hdkc/start_k2hdkc do inside the
    container: hold file, SIGHUP k2hdkc; later remove the hold file."""
    with Node(tmp_path) as node:
        first = node.wait_running()
        hold = node.run_dir / 'k2hdkc.hold'
        hold.touch()
        os.kill(first, signal.SIGHUP)
        harness.wait_for(lambda: 'held by' in node.output(), 30, 'held')
        assert node.proc.poll() is None
        hold.unlink()
        harness.wait_for(lambda: node.k2hdkc_attached()
                         and node.pid('k2hdkc') != first, 30, 'restart')
        assert node.stop() == 0
