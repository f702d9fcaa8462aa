"""Client side of the K2HDKC guest RPC contract (doc/guest-rpc.md).

One stub per guest Manager method, same name and keyword arguments;
nothing else. ``_call`` is Trove's single translation point (RemoteError
-> GuestError, MessagingTimeout -> GuestTimeout). Arguments are never
logged here: ``configure_node`` carries a role token.
"""

from __future__ import annotations

from typing import Any

from trove.common import cfg
from trove.common.strategies.cluster import base as cluster_base
from trove.guestagent import api as guest_api

CONF = cfg.CONF


class K2hdkcGuestAgentStrategy(cluster_base.BaseGuestAgentStrategy):

    @property
    def guest_client_class(self) -> type:
        return K2hdkcGuestAgentAPI


class K2hdkcGuestAgentAPI(guest_api.API):
    """Sync calls; slow ones (process start/stop, merges of one node)
    get the longer of Trove's high timeout and ``[k2hdkc] usage_timeout``.
    """

    def __init__(self, context: Any, id: str) -> None:  # noqa: A002
        super().__init__(context, id)
        self.agent_slow_timeout = max(self.agent_high_timeout,
                                      CONF.get('k2hdkc').usage_timeout)

    def configure_node(self, k2hr3_url: str, resource_yrn: str,
                       role_yrn: str, role_token: str) -> Any:
        return self._call('configure_node', self.agent_high_timeout,
                          version=self.API_BASE_VERSION,
                          k2hr3_url=k2hr3_url, resource_yrn=resource_yrn,
                          role_yrn=role_yrn, role_token=role_token)

    def start_node(self) -> Any:
        return self._call('start_node', self.agent_slow_timeout,
                          version=self.API_BASE_VERSION)

    def refresh_config(self) -> Any:
        return self._call('refresh_config', self.agent_high_timeout,
                          version=self.API_BASE_VERSION)

    def service_in(self) -> Any:
        return self._call('service_in', self.agent_low_timeout,
                          version=self.API_BASE_VERSION)

    def service_out(self, server: str, ctlport: int,
                    custom_id_seed: str) -> Any:
        return self._call('service_out', self.agent_low_timeout,
                          version=self.API_BASE_VERSION,
                          server=server, ctlport=ctlport,
                          custom_id_seed=custom_id_seed)

    def restart_k2hdkc(self) -> Any:
        return self._call('restart_k2hdkc', self.agent_slow_timeout,
                          version=self.API_BASE_VERSION)

    def merge(self) -> Any:
        return self._call('merge', self.agent_low_timeout,
                          version=self.API_BASE_VERSION)

    def complete_merge(self) -> Any:
        return self._call('complete_merge', self.agent_low_timeout,
                          version=self.API_BASE_VERSION)

    def abort_merge(self) -> Any:
        return self._call('abort_merge', self.agent_low_timeout,
                          version=self.API_BASE_VERSION)

    def suspend_merge(self) -> Any:
        return self._call('suspend_merge', self.agent_low_timeout,
                          version=self.API_BASE_VERSION)

    def resume_merge(self) -> Any:
        return self._call('resume_merge', self.agent_low_timeout,
                          version=self.API_BASE_VERSION)

    def node_status(self) -> Any:
        return self._call('node_status', self.agent_low_timeout,
                          version=self.API_BASE_VERSION)

    def purge_prepare(self) -> Any:
        """k2hdkc back on an empty K2HFILE, returns at [n/a][Pending]."""
        return self._call('purge_prepare', self.agent_slow_timeout,
                          version=self.API_BASE_VERSION)

    def purge_finish(self) -> Any:
        return self._call('purge_finish', self.agent_high_timeout,
                          version=self.API_BASE_VERSION)

    def stop_node(self) -> Any:
        return self._call('stop_node', self.agent_slow_timeout,
                          version=self.API_BASE_VERSION)

    def restart(self) -> Any:
        """Trove's stub, slower: the guest stops its node, starts it and
        rejoins it (MERGE/COMPMERGE) before it answers."""
        return self._call('restart', self.agent_slow_timeout,
                          version=self.API_BASE_VERSION)

    def restart_node(self) -> Any:
        """Stop and start the node; it returns at [n/a][Pending] and the
        taskmanager watches the merge back (a lone server bootstraps
        itself)."""
        return self._call('restart_node', self.agent_slow_timeout,
                          version=self.API_BASE_VERSION)

    def upgrade(self, upgrade_info: dict[str, Any]) -> Any:
        """A call, not Trove's cast: a rolling upgrade must know when this
        node is back before it takes the next one down
        (``upgrade_info['rejoin']`` False: back at [Pending])."""
        return self._call('upgrade', self.agent_slow_timeout,
                          version=self.API_BASE_VERSION,
                          upgrade_info=upgrade_info)

    def cluster_complete(self) -> Any:
        return self._call('cluster_complete', self.agent_high_timeout,
                          version=self.API_BASE_VERSION)
