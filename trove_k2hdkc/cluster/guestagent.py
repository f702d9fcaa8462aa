"""Client side of the K2HDKC guest RPC contract (doc/guest-rpc.md).

One stub per guest Manager method, same name and keyword arguments,
each with its own bound from ``[k2hdkc] guest_*_rpc_timeout``: a lost
guest never holds a step for Trove's 900 s defaults, and its silence
becomes ``GuestSilent`` naming the member, the method and the wait
(doc/guest-rpc.md §1). ``_call`` is Trove's single translation point
(RemoteError -> GuestError, MessagingTimeout -> GuestTimeout). Arguments
are never logged here: ``configure_node`` carries a role token.
"""

from __future__ import annotations

from typing import Any

from trove.common import cfg
from trove.common import exception as trove_exc
from trove.common.strategies.cluster import base as cluster_base
from trove.guestagent import api as guest_api

CONF = cfg.CONF


class K2hdkcGuestAgentStrategy(cluster_base.BaseGuestAgentStrategy):

    @property
    def guest_client_class(self) -> type:
        return K2hdkcGuestAgentAPI


class GuestSilent(trove_exc.GuestTimeout):
    """A guest did not answer a call within its bound: the agent or the
    VM is down, or the node is stuck; the text says which member."""

    def __init__(self, instance_id: str, method: str,
                 seconds: float) -> None:
        super().__init__(message=(
            'the guest agent of member %s did not answer %s within %ss '
            '(agent stopped, VM gone or node stuck)'
            % (instance_id, method, _seconds(seconds))))


def _seconds(value: float) -> str:
    return ('%d' % value) if float(value).is_integer() else '%g' % value


class K2hdkcGuestAgentAPI(guest_api.API):
    """Sync calls. Bounds (``[k2hdkc]``): ``guest_status_rpc_timeout``
    for status reads, ``guest_command_rpc_timeout`` for control-port
    commands, ``guest_config_rpc_timeout`` for K2HR3 fetches and marker
    files, ``guest_node_rpc_timeout`` for process starts, stops and
    restarts; a restart or upgrade that merges the node back itself gets
    two ``merge_timeout`` more."""

    def __init__(self, context: Any, id: str) -> None:  # noqa: A002
        super().__init__(context, id)
        opts = CONF.get('k2hdkc')
        self.status_timeout = opts.guest_status_rpc_timeout
        self.command_timeout = opts.guest_command_rpc_timeout
        self.config_timeout = opts.guest_config_rpc_timeout
        self.node_timeout = opts.guest_node_rpc_timeout
        self.rejoin_timeout = (opts.guest_node_rpc_timeout
                               + 2 * opts.merge_timeout)

    def _call(self, method_name: str, timeout_sec: float, version: str,
              **kwargs: Any) -> Any:
        try:
            return super()._call(method_name, timeout_sec, version,
                                 **kwargs)
        except GuestSilent:
            raise
        except trove_exc.GuestTimeout as exc:
            raise GuestSilent(self.id, method_name, timeout_sec) from exc

    def configure_node(self, k2hr3_url: str, resource_yrn: str,
                       role_yrn: str, role_token: str) -> Any:
        return self._call('configure_node', self.config_timeout,
                          version=self.API_BASE_VERSION,
                          k2hr3_url=k2hr3_url, resource_yrn=resource_yrn,
                          role_yrn=role_yrn, role_token=role_token)

    def restore_node(self, backup_info: dict[str, Any]) -> Any:
        """The member's backup of a set, before its first start
        (doc/backup.md §6); bounded by ``guest_restore_rpc_timeout``."""
        return self._call('restore_node',
                          CONF.get('k2hdkc').guest_restore_rpc_timeout,
                          version=self.API_BASE_VERSION,
                          backup_info=backup_info)

    def prepare_failure(self) -> Any:
        """Why the guest's prepare failed, or None
        (``taskmanager.Manager`` shows it as the instance fault)."""
        return self._call('prepare_failure', self.status_timeout,
                          version=self.API_BASE_VERSION)

    def start_node(self) -> Any:
        return self._call('start_node', self.node_timeout,
                          version=self.API_BASE_VERSION)

    def refresh_config(self) -> Any:
        return self._call('refresh_config', self.config_timeout,
                          version=self.API_BASE_VERSION)

    def service_in(self) -> Any:
        return self._call('service_in', self.command_timeout,
                          version=self.API_BASE_VERSION)

    def service_out(self, server: str, ctlport: int,
                    custom_id_seed: str) -> Any:
        return self._call('service_out', self.command_timeout,
                          version=self.API_BASE_VERSION,
                          server=server, ctlport=ctlport,
                          custom_id_seed=custom_id_seed)

    def restart_k2hdkc(self) -> Any:
        return self._call('restart_k2hdkc', self.node_timeout,
                          version=self.API_BASE_VERSION)

    def merge(self) -> Any:
        return self._call('merge', self.command_timeout,
                          version=self.API_BASE_VERSION)

    def complete_merge(self) -> Any:
        return self._call('complete_merge', self.command_timeout,
                          version=self.API_BASE_VERSION)

    def abort_merge(self) -> Any:
        return self._call('abort_merge', self.command_timeout,
                          version=self.API_BASE_VERSION)

    def suspend_merge(self) -> Any:
        return self._call('suspend_merge', self.command_timeout,
                          version=self.API_BASE_VERSION)

    def resume_merge(self) -> Any:
        return self._call('resume_merge', self.command_timeout,
                          version=self.API_BASE_VERSION)

    def node_status(self) -> Any:
        return self._call('node_status', self.status_timeout,
                          version=self.API_BASE_VERSION)

    def purge_prepare(self) -> Any:
        """k2hdkc back on an empty K2HFILE, returns at [n/a][Pending]."""
        return self._call('purge_prepare', self.node_timeout,
                          version=self.API_BASE_VERSION)

    def purge_finish(self) -> Any:
        return self._call('purge_finish', self.config_timeout,
                          version=self.API_BASE_VERSION)

    def stop_node(self) -> Any:
        return self._call('stop_node', self.node_timeout,
                          version=self.API_BASE_VERSION)

    def restart(self) -> Any:
        """Trove's stub, slower: the guest stops its node, starts it and
        rejoins it (MERGE/COMPMERGE) before it answers."""
        return self._call('restart', self.rejoin_timeout,
                          version=self.API_BASE_VERSION)

    def restart_node(self) -> Any:
        """Stop and start the node; it returns at [n/a][Pending] and the
        taskmanager watches the merge back (a lone server bootstraps
        itself)."""
        return self._call('restart_node', self.node_timeout,
                          version=self.API_BASE_VERSION)

    def pre_upgrade(self) -> Any:
        return self._call('pre_upgrade', self.config_timeout,
                          version=self.API_BASE_VERSION)

    def upgrade(self, upgrade_info: dict[str, Any]) -> Any:
        """A call, not Trove's cast: a rolling upgrade must know when this
        node is back before it takes the next one down
        (``upgrade_info['rejoin']`` False: back at [Pending])."""
        rejoin = upgrade_info.get('rejoin', True) is not False
        return self._call('upgrade', self.rejoin_timeout if rejoin
                          else self.node_timeout,
                          version=self.API_BASE_VERSION,
                          upgrade_info=upgrade_info)

    def cluster_complete(self) -> Any:
        return self._call('cluster_complete', self.config_timeout,
                          version=self.API_BASE_VERSION)
