"""Node operations of one K2HDKC server node (what the RPCs delegate to).

Status waits talk to the node's own chmpx control port; process mechanics
are the runtime's (``runtime.base.NodeRuntime``).  Every method is
idempotent so the taskmanager can re-send it after a timeout or an agent
restart.  Procedures follow doc/ring-procedures.md.
"""

from __future__ import annotations

from collections.abc import Callable
import functools
import os
import pathlib
import threading
import time
from typing import Any
from typing import TypeVar

from oslo_log import log as logging

from trove_k2hdkc.chmpx import ctlport as ctl
from trove_k2hdkc.chmpx import status as chst
from trove_k2hdkc.chmpx.errors import ControlPortError
from trove_k2hdkc.chmpx.ini import ChmpxConfig
from trove_k2hdkc.guest import errors
from trove_k2hdkc.guest import rejoin as rejoin_rule
from trove_k2hdkc.guest.access import AccessStore
from trove_k2hdkc.guest.fileutil import atomic_write
from trove_k2hdkc.guest.node_config import Fetcher
from trove_k2hdkc.guest.node_config import NodeConfig
from trove_k2hdkc.guest.node_config import server_list
from trove_k2hdkc.guest.runtime.base import NodeRuntime
from trove_k2hdkc.k2hr3.access import NodeAccess

LOG = logging.getLogger(__name__)

TROVE_CONFIG_FILE = 'trove-config.ini'
#: After SIGHUP of k2hdkc chmpx may miss the detach; doc/ring-procedures.md §9.
_SUSPEND_POKE_AFTER = 0.2
#: A restarted k2hdkc that has not cleared [Suspend] by then is hung;
#: chmpx is restarted too (doc/ring-procedures.md §8).
ATTACH_TIMEOUT = 10.0

F = TypeVar('F', bound=Callable[..., Any])


def _exclusive(method: F) -> F:
    """One operation of the node at a time (RPCs and the healer)."""
    @functools.wraps(method)
    def locked(self: K2hdkcApp, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            return method(self, *args, **kwargs)
    return locked  # type: ignore[return-value]


def _status_dict(node: chst.NodeStatus) -> dict[str, Any]:
    return {'code': node.code, 'text': node.text, 'ring': node.ring.value,
            'live': node.live.value, 'action': node.action.value,
            'operate': node.operate.value, 'suspend': node.suspended}


class K2hdkcApp:
    """One node: INI, K2HR3 access, runtime and control port."""

    def __init__(self, runtime: NodeRuntime, node_config: NodeConfig,
                 access_store: AccessStore, fetcher: Fetcher, *,
                 ctlport_timeout: float = ctl.DEFAULT_TIMEOUT,
                 ctlport_command_timeout: float = ctl.DEFAULT_COMMAND_TIMEOUT,
                 conf_dir: str | os.PathLike, data_dir: str | os.PathLike,
                 start_timeout: float = 120.0,
                 shm_dir: str = '/tmp',  # noqa: S108 chmpx's default
                 poll_interval: float = 0.2,
                 attach_timeout: float = ATTACH_TIMEOUT,
                 merge_timeout: float = 300.0) -> None:
        self.runtime = runtime
        self.node_config = node_config
        self.access_store = access_store
        self.fetcher = fetcher
        self.ctlport_timeout = ctlport_timeout
        self.ctlport_command_timeout = ctlport_command_timeout
        self._client: ctl.ControlPortClient | None = None
        self.conf_dir = pathlib.Path(conf_dir)
        self.data_dir = pathlib.Path(data_dir)
        self.start_timeout = start_timeout
        self.shm_dir = shm_dir
        self.poll = poll_interval
        self.attach_timeout = attach_timeout
        #: No [Done] this long after MERGE: the merge hangs (§8).
        self.merge_timeout = merge_timeout
        #: Held by every operation that changes the node or the ring.
        self.lock = threading.RLock()

    def busy(self) -> bool:
        """Another thread runs an operation of this node right now."""
        if not self.lock.acquire(blocking=False):
            return True
        self.lock.release()
        return False

    @property
    def client(self) -> ctl.ControlPortClient:
        """Client of the own control port, at the own SVRNODE NAME."""
        host = self.node_config.self_name() or '127.0.0.1'
        if self._client is None or self._client.host != host:
            self._client = ctl.ControlPortClient(
                host, self.node_config.ctlport,
                timeout=self.ctlport_timeout,
                command_timeout=self.ctlport_command_timeout)
        return self._client

    def self_status(self) -> chst.NodeStatus:
        """SELFSTATUS of this node; raises ``ControlPortError``."""
        return self.client.self_status().status

    # -- prepare -----

    def prepare_dirs(self) -> None:
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def save_config_contents(self, contents: str | None) -> None:
        """Keep Trove's rendered config.template (not read by chmpx)."""
        if contents is not None:
            atomic_write(self.conf_dir / TROVE_CONFIG_FILE, contents.encode())

    # -- configuration -----

    @_exclusive
    def configure_node(self, access: NodeAccess) -> dict[str, Any]:
        """Store access, fetch + validate + install the INI.

        Access is stored first so a later ``refresh_config`` can retry a
        fetch that failed now (K2HR3 outage)."""
        self.access_store.save(access)
        LOG.info('Stored K2HR3 access for resource %s.', access.resource_yrn)
        self.node_config.install(self.fetcher(access), access)
        return self.node_status()

    @_exclusive
    def refresh_config(self) -> dict[str, Any]:
        access = self.access_store.load()
        changed, config = self.node_config.install(self.fetcher(access),
                                                   access)
        return {'changed': changed, 'servers': server_list(config)}

    def is_configured(self) -> bool:
        return self.node_config.exists()

    # -- lifecycle -----

    @_exclusive
    def start_node(self) -> dict[str, Any]:
        if not self.node_config.exists():
            raise errors.NotConfiguredError(
                'cannot start the node: no INI at %s; call configure_node '
                'first' % self.node_config.path)
        self.prepare_dirs()
        self.runtime.start()
        self.wait_for(lambda s: s.is_up and s.attached,
                      'chmpx UP with k2hdkc attached')
        return self.node_status()

    @_exclusive
    def bootstrap_alone(self) -> dict[str, Any]:
        """A single-server ring to HEALTHY (doc/ring-procedures.md §2 with
        one node): SERVICEIN, MERGE, COMPMERGE.  Resumes from the step
        a crashed agent reached, so a re-sent prepare is harmless."""
        node = self.wait_for(lambda s: s.is_up and s.attached,
                             'chmpx UP with k2hdkc attached')
        if not node.in_service and not node.is_merging:
            self.service_in()
            node = self.wait_for(lambda s: s.is_merging or s.is_healthy,
                                 '[ADD][Pending] after SERVICEIN')
        if node.needs_merge:
            self.merge()
        if node.is_merging and not node.needs_compmerge:
            node = self.wait_for(lambda s: s.needs_compmerge or
                                 s.is_healthy, '[Done] of the merge')
        if node.needs_compmerge:
            self.complete_merge()
        self.wait_for(lambda s: s.is_healthy, 'healthy after COMPMERGE')
        return self.node_status()

    @_exclusive
    def stop_node(self) -> dict[str, Any]:
        self.runtime.stop()
        return self.node_status()

    @_exclusive
    def restore_node(self, restore: Callable[[], None]) -> dict[str, Any]:
        """Run ``restore`` (which replaces the node's file) between
        ``configure_node`` and the node's first start: a cluster restored
        from a backup set (doc/backup.md §6). A running node is refused:
        its file is live."""
        if not self.node_config.exists():
            raise errors.NotConfiguredError(
                'cannot restore the node: no INI at %s; call '
                'configure_node first' % self.node_config.path)
        if self.runtime.is_running():
            raise errors.GuestNodeError(
                'cannot restore a running node: the backup is loaded '
                'only before the node first starts')
        restore()
        return {'restored': True}

    @_exclusive
    def restart(self, rejoin: bool = True) -> dict[str, Any]:
        """Stop both processes, start them, merge back (Trove's
        ``instance restart``); returns healthy. ``rejoin`` False (a
        rolling restart): returns at [Pending], the taskmanager watches
        the merge back."""
        LOG.info('Restarting chmpx and k2hdkc.')
        self.runtime.stop()
        self.start_node()
        return self._back(rejoin)

    @_exclusive
    def upgrade(self, version: str, rejoin: bool = True) -> dict[str, Any]:
        """Run ``version`` (Docker: that image tag; processes: whatever
        the packages installed) and come back as ``restart`` does."""
        LOG.info('Upgrading the node to datastore version %s.', version)
        self.runtime.upgrade(version)
        self.start_node()
        return self._back(rejoin)

    def _back(self, rejoin: bool) -> dict[str, Any]:
        """After a whole-node start: merge back here, or leave that to
        the taskmanager unless this is the ring's only server (nobody
        else could bring it back)."""
        if rejoin:
            return self.rejoin()
        me = self.client.self_status()
        if not rejoin_rule.others(me, self.client.all_status()):
            return self.bootstrap_alone()
        return self.node_status()

    @_exclusive
    def resume(self) -> None:
        """At agent start: run again what ran before a VM or agent
        restart, as Docker's restart policy would; the healer then merges
        the node back."""
        try:
            self.runtime.resume()
        except errors.GuestNodeError as exc:
            LOG.warning('Could not start the node again after the agent '
                        'started: %s', exc)

    def rejoin_plan(self) -> rejoin_rule.Plan:
        """What brings this node back; raises ``RejoinRefused``."""
        return rejoin_rule.plan(self.client.self_status(),
                                self.client.all_status())

    @_exclusive
    def rejoin(self) -> dict[str, Any]:
        """doc/ring-procedures.md §6 replacement with the same identity,
        guest-local: MERGE and COMPMERGE when this node alone is ``0x1021``.
        Raises ``RejoinRefused`` (ring untouched) while any other server is not
        ``0x21``: then a procedure or another failure is in progress."""
        self.wait_for(lambda s: s.is_up and s.attached,
                      'chmpx UP with k2hdkc attached')
        step = self.rejoin_plan()
        if step is rejoin_rule.Plan.BOOTSTRAP:
            LOG.info('The only server of its ring; bootstrapping it alone.')
            return self.bootstrap_alone()
        if step is rejoin_rule.Plan.MERGE:
            LOG.info('Merging this node back into the ring (MERGE, '
                     'COMPMERGE).')
            self._merge_until_healthy()
        return self.node_status()

    def _merge_until_healthy(self) -> None:
        """MERGE then COMPMERGE on the own control port, watched: a hang
        is aborted via a peer and retried, a second one raises
        ``MergeHung`` (doc/ring-procedures.md §6, §8)."""
        peers = rejoin_rule.peers(self.client.self_status(),
                                  self.client.all_status(),
                                  self.ctlport_timeout,
                                  self.ctlport_command_timeout)
        rejoin_rule.merge_back(self.client, peers, self.wait_for,
                               self.merge_timeout)

    @_exclusive
    def restart_k2hdkc(self) -> dict[str, Any]:
        """doc/ring-procedures.md §3 step 4: SIGHUP k2hdkc, wait for [Suspend],
        start, wait. A node in the middle of a purge (its old file set
        aside) starts again on an empty file (§5, §8)."""
        self._stop_k2hdkc_until_suspended()
        self._empty_if_purging()
        self._start_k2hdkc_attached()
        self.wait_for(lambda s: s.attached and (s.needs_merge
                                                or s.is_healthy),
                      '[Pending] or healthy after the k2hdkc restart')
        return self.node_status()

    def _start_k2hdkc_attached(self) -> None:
        """Start k2hdkc; if chmpx stays [Suspend], restart both
        (doc/ring-procedures.md §8: a hung pair recovers only that way)."""
        self.runtime.start_k2hdkc()
        try:
            self.wait_for(lambda s: s.attached, 'k2hdkc attached',
                          timeout=self.attach_timeout)
        except errors.RuntimeStartError as exc:
            LOG.warning('%s; restarting chmpx and k2hdkc.', exc)
            self.runtime.stop()
            self.runtime.start()

    def _stop_k2hdkc_until_suspended(self) -> None:
        """Stop k2hdkc and wait until chmpx reports [Suspend]: poke the shm
        file if it is slow (doc/ring-procedures.md §9); restart chmpx too when
        k2hdkc needed SIGKILL or chmpx still misses the detach after
        ``attach_timeout`` (doc/ring-procedures.md §8)."""
        chmpx_restarted = False
        if not self.runtime.stop_k2hdkc():
            self._restart_chmpx('k2hdkc ignored SIGHUP')
            chmpx_restarted = True
        started = time.monotonic()
        poked = False
        while True:
            node = self._self_status_or_none()
            if node is not None and node.suspended:
                return
            elapsed = time.monotonic() - started
            if not poked and elapsed >= _SUSPEND_POKE_AFTER:
                self.runtime.poke_shm(self.shm_path())
                poked = True
            if not chmpx_restarted and elapsed >= self.attach_timeout:
                self._restart_chmpx('no [Suspend] %.0f s after k2hdkc '
                                    'stopped' % elapsed)
                chmpx_restarted = True
            if elapsed >= self.start_timeout:
                raise errors.RuntimeStopError(
                    'chmpx did not report [Suspend] after k2hdkc stopped')
            time.sleep(self.poll)

    def _restart_chmpx(self, why: str) -> None:
        LOG.warning('%s; restarting chmpx too (doc/ring-procedures.md §8).',
                    why)
        self.runtime.restart_chmpx()

    @_exclusive
    def purge_node(self) -> dict[str, Any]:
        """doc/ring-procedures.md §5, all on this guest: ``purge_prepare``,
        the watched merge back, ``purge_finish`` (a taskmanager that runs
        the merge itself calls the two halves)."""
        self.purge_prepare()
        self._merge_until_healthy()
        return self.purge_finish()

    def _live_config(self) -> ChmpxConfig:
        """The live INI, its values checked again before the guest acts
        on them (doc/k2hr3-layout.md §5); ``UntrustedConfigError``."""
        return self.node_config.checked(self.access_store.load())

    def _purge_files(self) -> tuple[str, str]:
        """The K2HFILE and where its old contents wait during a purge."""
        k2hfile = self._live_config().k2hdkc.get('K2HFILE')
        if not k2hfile:
            raise errors.GuestNodeError('the INI has no [K2HDKC] K2HFILE; '
                                        'nothing to purge')
        return k2hfile, k2hfile + '.purge'

    @_exclusive
    def purge_prepare(self) -> dict[str, Any]:
        """doc/ring-procedures.md §5 steps 1-3: k2hdkc back on an
        empty K2HFILE, the old one moved aside; returns at [n/a][Pending].
        Sent again once that is done, it changes nothing."""
        k2hfile, aside = self._purge_files()
        node = self._self_status_or_none()
        if (os.path.exists(aside) and node is not None and node.attached
                and node.needs_merge):
            return self.node_status()
        self._stop_k2hdkc_until_suspended()
        if os.path.exists(aside):
            # prepared before: the old copies are aside already, and a
            # partial refill must not replace them
            _remove(k2hfile)
        elif os.path.exists(k2hfile):
            os.replace(k2hfile, aside)
        self._start_k2hdkc_attached()
        self.wait_for(lambda s: s.attached and s.needs_merge,
                      '[Pending] after the purge restart')
        return self.node_status()

    def _empty_if_purging(self) -> None:
        """While k2hdkc is stopped: if a purge is under way (the old file
        is aside), drop the partial refill, so the merge that follows
        pulls the whole range again without a time filter (§5)."""
        try:
            k2hfile, aside = self._purge_files()
        except errors.GuestNodeError:
            return      # no K2HFILE: nothing on disk to refill
        if os.path.exists(aside):
            LOG.warning('k2hdkc restarted during a purge: it starts again '
                        'on an empty file (doc/ring-procedures.md §5).')
            _remove(k2hfile)

    @_exclusive
    def purge_finish(self) -> dict[str, Any]:
        """doc/ring-procedures.md §5 step 6: the node is healthy again,
        drop the old file."""
        _, aside = self._purge_files()
        if os.path.exists(aside):
            os.unlink(aside)
        return self.node_status()

    def shm_path(self) -> str:
        group = self._live_config().group or ''
        return os.path.join(self.shm_dir,
                            '%s-%d.chmpx' % (group, self.client.port))

    # -- control port -----

    def _command(self, call: Callable[[], Any]) -> dict[str, Any]:
        result = call()
        return {'reply': result.reply}

    @_exclusive
    def service_in(self) -> dict[str, Any]:
        return self._command(self.client.service_in)

    @_exclusive
    def service_out(self, server: str, ctlport: int,
                    custom_id_seed: str) -> dict[str, Any]:
        result = self.client.service_out(server, int(ctlport),
                                         custom_id_seed)
        return {'reply': result.reply,
                'already_service_out': result.already_service_out}

    @_exclusive
    def merge(self) -> dict[str, Any]:
        return self._command(self.client.merge)

    @_exclusive
    def complete_merge(self) -> dict[str, Any]:
        return self._command(self.client.comp_merge)

    @_exclusive
    def abort_merge(self) -> dict[str, Any]:
        return self._command(self.client.abort_merge)

    @_exclusive
    def suspend_merge(self) -> dict[str, Any]:
        return self._command(self.client.suspend_merge)

    @_exclusive
    def resume_merge(self) -> dict[str, Any]:
        return self._command(self.client.nosuspend_merge)

    # -- status -----

    def _self_status_or_none(self) -> chst.NodeStatus | None:
        try:
            return self.client.self_status().status
        except ControlPortError:
            return None

    def wait_for(self, pred: Callable[[chst.NodeStatus], bool],
                 what: str, timeout: float | None = None) -> chst.NodeStatus:
        """Poll SELFSTATUS until ``pred``; ``RuntimeStartError`` after
        ``timeout`` (default ``start_timeout``)."""
        limit = self.start_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        last = None
        while True:
            last = self._self_status_or_none()
            if last is not None and pred(last):
                return last
            if time.monotonic() >= deadline:
                raise errors.RuntimeStartError(
                    'node did not reach %s within %.0f s (last status %s)'
                    % (what, limit,
                       last.text if last else 'no control-port answer'))
            time.sleep(self.poll)

    def node_status(self) -> dict[str, Any]:
        out: dict[str, Any] = {'self': None, 'ring': [],
                               'runtime': self.runtime.running()}
        if not out['runtime'].get('chmpx'):
            return out
        try:
            me = self.client.self_status()
            ring = self.client.all_status()
        except ControlPortError as exc:
            out['error'] = str(exc)
            return out
        out['self'] = {'name': me.server_name, 'ctlport': me.ctlport,
                       'cuk': me.cuk, 'custom_id_seed': me.custom_id_seed,
                       'status': _status_dict(me.status)}
        out['ring'] = [_server_dict(server) for server in ring.servers]
        return out


def _server_dict(server: chst.ServerStatus) -> dict[str, Any]:
    return {'name': server.server_name, 'port': server.port,
            'ctlport': server.ctlport, 'cuk': server.cuk,
            'custom_id_seed': server.custom_id_seed,
            'status': _status_dict(server.status)}


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
