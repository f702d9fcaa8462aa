"""Merge a node back that came back alone in [Pending] (doc/ring-procedures.md
§6, "k2hdkc-only crash").

Why: after the supervisor (or Docker) restarted a crashed k2hdkc or chmpx,
the node shows ``0x1021 [n/a][Pending]`` and, with AUTOMERGE=off, nobody
sends MERGE and COMPMERGE: the node stays out of service for ever (the
only server of a ring comes back SERVICE OUT and bootstraps alone again).
The trigger is Trove's periodic status check; the rule is ``rejoin.plan``
(every other server ``0x21``), seen on two checks at least ``min_gap``
seconds apart so that a taskmanager restarting k2hdkc on several nodes in
turn is never raced.  The rejoin runs in the background,
one at a time, and only while no RPC-driven operation holds the node.
A rejoin that fails (a merge that hung twice, doc/ring-procedures.md §8)
is tried again later, each time after a longer wait.
"""

from __future__ import annotations

from collections.abc import Callable
import threading
import time
from typing import Any

from oslo_log import log as logging

from trove_k2hdkc.chmpx.errors import ControlPortError
from trove_k2hdkc.chmpx.status import NodeStatus
from trove_k2hdkc.guest import errors
from trove_k2hdkc.guest.rejoin import Plan

LOG = logging.getLogger(__name__)

#: Seconds the rule must hold before the node merges itself back.
MIN_GAP = 5.0
#: Longest wait after failed rejoins before the next try.
MAX_BACKOFF = 900.0


class Healer:
    """:param app: the node's ``K2hdkcApp`` (its ``lock``, ``busy``,
    ``rejoin_plan`` and ``rejoin``)."""

    def __init__(self, app: Any, min_gap: float = MIN_GAP,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.min_gap = min_gap
        self._clock = clock
        self._since: float | None = None
        self._failures = 0
        self._not_before = 0.0
        self._guard = threading.Lock()
        self.thread: threading.Thread | None = None

    def observe(self, node: NodeStatus | None) -> bool:
        """One status check saw ``node`` (own SELFSTATUS; None: k2hdkc is
        not running); True when it started a rejoin in the background.
        Never blocks on a merge."""
        if node is None or not self._needs_rejoin(node):
            self._since = None
            return False
        now = self._clock()
        if now < self._not_before:
            return False
        if self._since is None:
            self._since = now
            LOG.info('Node is %s and no procedure is running; it merges '
                     'itself back if that still holds in %.0f s.',
                     node.text, self.min_gap)
            return False
        if now - self._since < self.min_gap:
            return False
        self._since = None
        return self._start()

    def _needs_rejoin(self, node: NodeStatus) -> bool:
        if node.is_healthy or not (node.is_up and node.attached):
            return False
        if self.app.busy():
            return False        # an RPC-driven operation owns the node
        try:
            return self.app.rejoin_plan() is not Plan.NOTHING
        except (errors.RejoinRefused, ControlPortError) as exc:
            LOG.debug('Not healing: %s', exc)
            return False

    def _start(self) -> bool:
        with self._guard:
            if self.thread is not None and self.thread.is_alive():
                return False
            self.thread = threading.Thread(target=self._run,
                                           name='k2hdkc-heal', daemon=True)
            self.thread.start()
            return True

    def _run(self) -> None:
        if not self.app.lock.acquire(blocking=False):
            LOG.info('Not healing now: another node operation runs.')
            return
        try:
            LOG.warning('Healing: this node is out of service while every '
                        'other server is healthy; merging it back.')
            self.app.rejoin()
            LOG.info('Healed: the node is healthy again.')
            self._failures = 0
        except errors.RejoinRefused as exc:
            LOG.info('Not healing: %s', exc)
        except Exception:  # a background thread: report, retry later
            self._failures += 1
            wait = min(self.min_gap * 2 ** self._failures, MAX_BACKOFF)
            self._not_before = self._clock() + wait
            LOG.exception('Healing failed (%d in a row); trying again in '
                          '%.0f s at the earliest.', self._failures, wait)
        finally:
            self.app.lock.release()
