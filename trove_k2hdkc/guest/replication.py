"""Trove replication strategy for K2HDKC: there is none to offer.

K2HDKC keeps REPLICA copies of every key on the next servers of its own
ring, so a Trove replica (a second single-node copy fed from a master)
would add nothing and could not stay consistent.  Every entry point says
so instead of failing obscurely.
"""

from __future__ import annotations

from trove.guestagent.strategies.replication import base

from trove_k2hdkc.guest.errors import ReplicationNotSupported

MESSAGE = ('K2HDKC does not support Trove replicas: it replicates inside '
           'the cluster ring (REPLICA in the CHMPX configuration). Grow the '
           'cluster instead.')


class K2hdkcReplication(base.Replication):
    """Refuses every replication operation with ``MESSAGE``."""

    def _refuse(self, *args, **kwargs):
        raise ReplicationNotSupported(MESSAGE)

    def get_master_ref(self, service, snapshot_info):
        self._refuse()

    def backup_required_for_replication(self):
        return False

    def snapshot_for_replication(self, context, service, adm, location,
                                 snapshot_info):
        self._refuse()

    def enable_as_master(self, service, master_config):
        self._refuse()

    def enable_as_slave(self, service, master_info, slave_config):
        self._refuse()

    def detach_slave(self, service, for_failover):
        self._refuse()

    def cleanup_source_on_replica_detach(self, service, replica_info):
        self._refuse()

    def demote_master(self, service):
        self._refuse()
