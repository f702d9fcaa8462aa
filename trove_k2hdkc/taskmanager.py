"""Taskmanager of a Trove that serves single-node K2HDKC instances.

Trove 26 has no datastore hook for a non-cluster instance, so this is
selected with ``[DEFAULT] taskmanager_manager =
trove_k2hdkc.taskmanager.Manager``.  For datastore ``k2hdkc`` without a
cluster it wraps Trove's own create/delete:

* create: provision a one-member K2HR3 layout keyed by the Trove
  instance id (the cluster layout, ``cluster.registry``) and hand the
  guest its access in ``overrides['k2hr3']``; the guest registers itself
  (``guest.node_config.K2hr3Registrar``, which documents why and the NAT
  trade-off) and bootstraps its one-server ring;
* delete: after Trove deleted the instance, tear that layout down; a
  K2HR3 failure is logged and never blocks the delete (teardown is
  idempotent, an operator can re-run it).

Every other datastore and every cluster member passes through unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oslo_log import log as logging
from trove.common import cfg
from trove.common import exception as trove_exc
from trove.datastore.models import DatastoreVersion
from trove.instance.models import DBInstance
from trove.instance.models import InstanceServiceStatus
from trove.instance.models import save_instance_fault
from trove.instance.service_status import ServiceStatuses
from trove.instance.tasks import InstanceTasks
from trove.taskmanager import manager as trove_manager

from trove_k2hdkc import faulttext
from trove_k2hdkc.cluster import owner
from trove_k2hdkc.cluster import registry as reg
from trove_k2hdkc.cluster.guestagent import K2hdkcGuestAgentAPI
from trove_k2hdkc.k2hr3 import settings as k2hr3_settings
from trove_k2hdkc.k2hr3.errors import K2hr3ValueError

LOG = logging.getLogger(__name__)
CONF = cfg.CONF
MANAGER = 'k2hdkc'
#: The key of ``overrides`` the guest reads its K2HR3 access from.
ACCESS_KEY = 'k2hr3'
_FAILED = (ServiceStatuses.FAILED.code,
           ServiceStatuses.FAILED_TIMEOUT_GUESTAGENT.code)


class Manager(trove_manager.Manager):
    """Trove's taskmanager plus the K2HR3 life of single K2HDKC nodes."""

    def __init__(self) -> None:
        super().__init__()
        # A [k2hdkc] ring value chmpx would refuse (ConfigFileValueError)
        # or options that contradict each other stop the taskmanager
        # here, not a create or grow later.
        try:
            k2hr3_settings.cluster_settings_from_conf(CONF)
        except K2hr3ValueError as exc:
            raise K2hr3ValueError('[k2hdkc] options: %s' % exc) from None
        # Clusters whose task lost its taskmanager (doc/ring-procedures.md
        # §11); without this class, the first cluster cast starts it.
        from trove_k2hdkc.cluster import taskmanager as cluster_tm
        cluster_tm.start_recovery()

    # Seam for tests: (conf, context, layout id) -> ClusterRegistry.
    registry_factory: Callable[..., reg.ClusterRegistry] = staticmethod(
        reg.registry_from_conf)
    # (request context, instance id) -> a context of the instance's
    # project, whoever deletes it (cluster/owner.py).
    owner_context_for: Callable[[Any, str], Any] = staticmethod(
        owner.context_for_instance)

    def create_instance(self, context, instance_id, name, flavor,
                        image_id, databases, users, datastore_manager,
                        packages, volume_size, backup_id, availability_zone,
                        root_password, nics, overrides, slave_of_id,
                        cluster_config, volume_type, modules, locality,
                        access=None, ds_version=None):
        single = (datastore_manager == MANAGER and not cluster_config
                  and not slave_of_id and isinstance(instance_id, str))
        if single:
            overrides = self._with_access(context, instance_id, overrides)
        result = super().create_instance(
            context, instance_id, name, flavor, image_id, databases, users,
            datastore_manager, packages, volume_size, backup_id,
            availability_zone, root_password, nics, overrides, slave_of_id,
            cluster_config, volume_type, modules, locality, access=access,
            ds_version=ds_version)
        if single:
            self._explain_failure(context, instance_id)
        return result

    def delete_instance(self, context, instance_id):
        # Read before Trove clears datastore_version_id on delete.
        single = self._is_single_k2hdkc(context, instance_id)
        super().delete_instance(context, instance_id)
        if single:
            self._teardown(context, instance_id)

    # -- helpers ---------------------------------------------------------

    # Seam for tests: (context, instance id) -> the guest's RPC client.
    guest_factory: Callable[[Any, str], Any] = staticmethod(
        lambda context, instance_id: K2hdkcGuestAgentAPI(context,
                                                         instance_id))

    def _explain_failure(self, context: Any, instance_id: str) -> None:
        """Trove records a failed prepare as ``Service not active,
        status: failed``; a restore that failed (a corrupted backup, a
        wrong key) must say why, so the guest is asked and its reason
        becomes the instance's fault (doc/backup.md §4)."""
        try:
            status = InstanceServiceStatus.find_by(instance_id=instance_id)
        except Exception as exc:  # never fail a create for its reason
            LOG.warning('Instance %s: no service status to explain: %s',
                        instance_id, exc)
            return
        # FAILED as the guest reported it, or as Trove rewrites it when
        # it gives up waiting (``update_status_on_fail``).
        if status.status_id not in _FAILED:
            return
        try:
            reason = self.guest_factory(context,
                                        instance_id).prepare_failure()
        except Exception as exc:
            LOG.warning('Instance %s: the guest did not say why its '
                        'prepare failed: %s', instance_id, exc)
            return
        if reason:
            LOG.error('Instance %s: prepare failed: %s', instance_id, reason)
            save_instance_fault(instance_id, faulttext.message(reason),
                                faulttext.details(reason))

    def _with_access(self, context: Any, instance_id: str,
                     overrides: Any) -> dict[str, Any]:
        try:
            node_access = self.registry_factory(
                CONF, context, instance_id).provision()
        except reg.RegistryError as exc:
            LOG.error('K2HR3 layout of instance %s failed: %s',
                      instance_id, exc)
            _mark_failed(instance_id)
            raise
        LOG.info('K2HR3 layout of instance %s is in place', instance_id)
        merged = dict(overrides) if isinstance(overrides, dict) else {}
        merged[ACCESS_KEY] = node_access.kwargs()
        return merged

    def _is_single_k2hdkc(self, context: Any, instance_id: str) -> bool:
        try:
            db = DBInstance.find_by(id=instance_id, deleted=False)
            if db.cluster_id or not db.datastore_version_id:
                return False
            version = DatastoreVersion.load_by_uuid(db.datastore_version_id)
        except trove_exc.NotFound:
            return False
        return version.manager == MANAGER

    def _teardown(self, context: Any, instance_id: str) -> None:
        try:
            self.registry_factory(
                CONF, self.owner_context_for(context, instance_id),
                instance_id).teardown()
        except (owner.OwnerAuthError, reg.RegistryError) as exc:
            LOG.error('Instance %s is deleted but its K2HR3 layout was '
                      'not removed (%s); list and remove the k2hdkc-%s '
                      'objects with trove-k2hdkc-orphans', instance_id, exc,
                      instance_id)
            return
        LOG.info('K2HR3 layout of instance %s is deleted', instance_id)


def _mark_failed(instance_id: str) -> None:
    """BUILDING_ERROR_SERVER, so the user sees an error (not an endless
    BUILD) and can delete the instance."""
    try:
        db = DBInstance.find_by(id=instance_id, deleted=False)
        db.set_task_status(InstanceTasks.BUILDING_ERROR_SERVER)
        db.save()
    except trove_exc.NotFound:
        LOG.warning('Instance %s vanished while its creation failed',
                    instance_id)
