"""Trove status of a K2HDKC node, from the runtime and chmpx itself.

Trove's base asks Docker for the ``database`` container's health, which
says nothing for the process runtime and too little for the docker one:
a node is HEALTHY only when its own SELFSTATUS is exactly 0x21
``[SERVICE IN][UP][n/a][Nothing][NoSuspend]`` and chmpx and k2hdkc run.
"""

from __future__ import annotations

from collections.abc import Callable
import threading
from typing import Any

from oslo_log import log as logging
from trove.guestagent.datastore import service as trove_service
from trove.instance import service_status

from trove_k2hdkc.chmpx.errors import ControlPortError
from trove_k2hdkc.chmpx.status import NodeStatus
from trove_k2hdkc.guest.runtime.base import CHMPX
from trove_k2hdkc.guest.runtime.base import K2HDKC
from trove_k2hdkc.guest.runtime.base import NodeRuntime

LOG = logging.getLogger(__name__)
Statuses = service_status.ServiceStatuses
Observer = Callable[[NodeStatus | None], Any]


class K2hdkcStatus(trove_service.BaseDbStatus):
    """``guestagent_dir`` holds the prepare markers (one per instance when
    several agents share a machine, one-machine-rig-facts.md item 5).
    ``observe`` (the healer, ``heal.Healer.observe``) gets the own status
    of every check that reached chmpx, ``None`` when k2hdkc is not
    running; it must not block."""

    # Seconds before a cluster member announces INSTANCE_READY once more.
    READY_REANNOUNCE_DELAY = 3.0

    def __init__(self, runtime: NodeRuntime,
                 self_status: Callable[[], NodeStatus],
                 guestagent_dir: str | None = None,
                 observe: Observer | None = None) -> None:
        super().__init__(docker_client=None)
        self.runtime = runtime
        self.self_status = self_status
        self.observe = observe
        if guestagent_dir:
            self.GUESTAGENT_DIR = guestagent_dir

    def end_install(self, error_occurred: bool = False,
                    post_processing: bool = False) -> None:
        """Trove's end of prepare, plus one re-announcement of INSTANCE_READY.

        Trove 26's conductor loses one of two first heartbeats that arrive
        together (BUILDING from begin_install and INSTANCE_READY right after
        it, for a cluster member whose prepare starts nothing): both insert
        the same conductor_lastseen row and the loser dies with
        DBDuplicateEntry. The taskmanager then waits for INSTANCE_READY
        until it times out. Saying it again once, later, is harmless.
        """
        super().end_install(error_occurred=error_occurred,
                            post_processing=post_processing)
        if post_processing and not error_occurred:
            timer = threading.Timer(self.READY_REANNOUNCE_DELAY,
                                    self._reannounce_ready)
            timer.daemon = True
            timer.start()

    def _reannounce_ready(self) -> None:
        # cluster_complete writes the prepare-end marker and reports the
        # real status: never overwrite that with INSTANCE_READY.
        if self.is_installed or self.status != Statuses.INSTANCE_READY:
            return
        LOG.info('Announcing INSTANCE_READY again.')
        self.set_status(Statuses.INSTANCE_READY, force=True)

    def get_actual_db_status(self) -> service_status.ServiceStatus:
        running = self.runtime.running()
        if not running.get(CHMPX):
            if self.runtime.wanted():
                return Statuses.CRASHED
            return Statuses.SHUTDOWN
        try:
            node = self.self_status()
        except ControlPortError as exc:
            LOG.warning('chmpx control port did not answer: %s', exc)
            return Statuses.UNKNOWN
        self._observe(node if running.get(K2HDKC) else None)
        if not running.get(K2HDKC):
            return Statuses.CRASHED if self.runtime.wanted() \
                else Statuses.RUNNING
        if node.is_healthy:
            return Statuses.HEALTHY
        LOG.debug('Node is up but not healthy: %s', node.text)
        return Statuses.RUNNING

    def _observe(self, node: NodeStatus | None) -> None:
        if self.observe is None:
            return
        try:
            self.observe(node)
        except Exception:  # the heartbeat must go on whatever happened
            LOG.exception('Checking whether the node needs healing failed.')
