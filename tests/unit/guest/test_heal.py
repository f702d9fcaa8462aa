"""The healer: when a status check may merge the node back (fakes)."""

from __future__ import annotations

import logging
import threading

from trove_k2hdkc.chmpx.errors import ControlPortUnavailable
from trove_k2hdkc.chmpx.status import parse_node_status
from trove_k2hdkc.guest import errors
from trove_k2hdkc.guest.heal import Healer
from trove_k2hdkc.guest.rejoin import Plan

PENDING = parse_node_status(
    '0x1021(SAFE -> [SERVICE IN][UP][n/a][Pending][NoSuspend])')
HEALTHY = parse_node_status(
    '0x21(SAFE -> [SERVICE IN][UP][n/a][Nothing][NoSuspend])')
SUSPENDED = parse_node_status(
    '0x10021(SAFE -> [SERVICE IN][UP][n/a][Nothing][Suspend])')


class App:
    def __init__(self):
        self.lock = threading.RLock()
        self.plan = Plan.MERGE
        self.rejoins = 0
        self.release = threading.Event()
        self.release.set()

    def busy(self):
        if not self.lock.acquire(blocking=False):
            return True
        self.lock.release()
        return False

    def rejoin_plan(self):
        if isinstance(self.plan, Exception):
            raise self.plan
        return self.plan

    def rejoin(self):
        with self.lock:
            self.rejoins += 1
            self.release.wait(10)


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def healer():
    app, clock = App(), Clock()
    return app, clock, Healer(app, min_gap=5.0, clock=clock)


def finish(heal):
    heal.thread.join(10)
    assert not heal.thread.is_alive()


def test_heals_after_two_checks_min_gap_apart():
    app, clock, heal = healer()
    assert heal.observe(PENDING) is False
    clock.now += 4.9
    assert heal.observe(PENDING) is False
    clock.now += 0.1
    assert heal.observe(PENDING) is True
    finish(heal)
    assert app.rejoins == 1


def test_a_check_where_the_rule_fails_starts_over():
    app, clock, heal = healer()
    assert heal.observe(PENDING) is False
    clock.now += 3
    assert heal.observe(None) is False          # k2hdkc not running
    clock.now += 3
    assert heal.observe(PENDING) is False
    clock.now += 3
    app.plan = errors.RejoinRefused('node2 is [ADD]')
    assert heal.observe(PENDING) is False
    app.plan = Plan.MERGE
    for status in (HEALTHY, SUSPENDED):
        clock.now += 6
        assert heal.observe(status) is False
    assert heal.thread is None and app.rejoins == 0


def test_no_heal_while_an_rpc_holds_the_node():
    app, clock, heal = healer()
    held, done = threading.Event(), threading.Event()

    def rpc():
        with app.lock:
            held.set()
            done.wait(10)
    worker = threading.Thread(target=rpc)
    worker.start()
    held.wait(10)
    try:
        for _ in range(3):
            assert heal.observe(PENDING) is False
            clock.now += 6
    finally:
        done.set()
        worker.join(10)
    assert heal.thread is None


def test_control_port_failure_is_no_heal():
    app, clock, heal = healer()
    app.plan = ControlPortUnavailable('refused')
    for _ in range(3):
        assert heal.observe(PENDING) is False
        clock.now += 6


def test_never_two_at_once():
    app, clock, heal = healer()
    app.release.clear()                 # the first rejoin is still merging
    heal.observe(PENDING)
    clock.now += 5
    assert heal.observe(PENDING) is True
    # The running rejoin holds the lock: later checks see a busy node.
    for _ in range(2):
        clock.now += 5
        assert heal.observe(PENDING) is False
    app.release.set()
    finish(heal)
    assert app.rejoins == 1


def test_refusal_inside_the_rejoin_is_logged_not_raised(caplog):
    caplog.set_level(logging.INFO)
    app, clock, heal = healer()

    def refuse():
        raise errors.RejoinRefused('node1 went DOWN meanwhile')
    app.rejoin = refuse
    heal.observe(PENDING)
    clock.now += 5
    assert heal.observe(PENDING) is True
    finish(heal)
    assert 'node1 went DOWN meanwhile' in caplog.text
    assert not app.busy()


def test_failed_rejoins_back_off_then_heal():
    """A merge back that hung twice (``MergeHung``) is retried later,
    each time after a longer wait; a success resets the wait."""
    app, clock, heal = healer()
    real = app.rejoin
    app.rejoin = lambda: (_ for _ in ()).throw(
        errors.GuestNodeError('the merge back hung 2 times'))

    def attempt_after(seconds):
        """Seconds of checks until the next rejoin starts."""
        waited = 0.0
        while not heal.observe(PENDING):
            clock.now += 1
            waited += 1
            assert waited <= seconds, 'no rejoin within %s s' % seconds
        finish(heal)
        return waited

    first = attempt_after(10)
    second = attempt_after(100)
    third = attempt_after(100)
    assert first < second < third
    assert second >= 10 and third >= 20       # 5 s * 2, 5 s * 4 at least
    app.rejoin = real
    attempt_after(100)
    assert app.rejoins == 1
    assert attempt_after(10) <= 5              # healed: no backoff left
