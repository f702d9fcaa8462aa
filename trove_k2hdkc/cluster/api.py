"""API side: validate cluster requests, record the task, hand off.

Every request problem the user can fix is a ``BadRequest`` (HTTP 400)
whose text says what to change; Trove's own cluster helpers raise plain
``TroveError`` subclasses for these, so they are re-raised as 400 here.
Every operation on an existing cluster first claims the cluster task
atomically (``claim``): while one runs, the others answer 409 naming it.
A failed hand-off to the taskmanager gives the task back and re-raises.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
import contextlib
import time
from typing import Any

from oslo_log import log as logging
from trove.cluster import models as cluster_models
from trove.cluster.tasks import ClusterTasks
from trove.cluster.views import ClusterView
from trove.common import cfg
from trove.common import clients
from trove.common import exception
from trove.common import server_group as srv_grp
from trove.common.strategies.cluster import base as cluster_base
from trove.extensions.mgmt.clusters.views import MgmtClusterView
from trove.instance.models import DBInstance
from trove.instance.models import Instance
from trove.quota.quota import check_quotas
from trove.taskmanager import api as task_api
import webob.exc

from trove_k2hdkc.cluster import claim
from trove_k2hdkc.cluster import faults
from trove_k2hdkc.cluster import nics
from trove_k2hdkc.cluster import placement
from trove_k2hdkc.cluster import registry as reg
from trove_k2hdkc.cluster import ringparams
from trove_k2hdkc.cluster import ringview

# Registers the merge-window task codes this process must be able to show.
from trove_k2hdkc.cluster import tasks as k2tasks
from trove_k2hdkc.k2hr3.errors import K2hr3ValueError
from trove_k2hdkc.k2hr3.settings import ClusterSettings

LOG = logging.getLogger(__name__)
CONF = cfg.CONF

MEMBER = 'member'

# Trove helper errors that mean "fix your request" but are not 400s.
_REQUEST_ERRORS = (exception.ClusterFlavorsNotEqual,
                   exception.ClusterNetworksNotEqual,
                   exception.ClusterVolumeSizeRequired,
                   exception.ClusterVolumeSizesNotEqual,
                   exception.VolumeNotSupported,
                   exception.VolumeSizeNotSpecified,
                   exception.LocalStorageNotSpecified)


class K2hdkcAPIStrategy(cluster_base.BaseAPIStrategy):

    @property
    def cluster_class(self) -> type:
        return K2hdkcCluster

    @property
    def cluster_view_class(self) -> type:
        return K2hdkcClusterView

    @property
    def mgmt_cluster_view_class(self) -> type:
        return K2hdkcMgmtClusterView


def bad_request(text: str) -> exception.BadRequest:
    return exception.BadRequest(message=text)


@contextlib.contextmanager
def _as_bad_request() -> Iterator[None]:
    try:
        yield
    except _REQUEST_ERRORS as exc:
        raise bad_request(str(exc)) from exc


def _opts(datastore_version: Any) -> Any:
    return CONF.get(datastore_version.manager)


class K2hdkcCluster(cluster_models.Cluster):

    # Seam for tests: (conf, context, cluster id) -> ClusterRegistry.
    registry_factory: Callable[..., reg.ClusterRegistry] = staticmethod(
        reg.registry_from_conf)
    # set by Trove's Cluster.__init__, overridden by ``server_group``
    _server_group: Any
    _server_group_loaded: bool

    @staticmethod
    def _check_count(total: int, opts: Any) -> None:
        low, high = opts.min_cluster_member_count, \
            opts.max_cluster_member_count
        if total < low:
            raise bad_request('A K2HDKC cluster needs at least %d members; '
                              'this request leaves %d.' % (low, total))
        if total > high:
            raise bad_request('A K2HDKC cluster holds at most %d members '
                              '([k2hdkc] max_cluster_member_count); this '
                              'request makes %d.' % (high, total))

    @staticmethod
    def _check_types(instances: Sequence[dict]) -> None:
        for inst in instances:
            kinds = inst.get('instance_type') or [MEMBER]
            if isinstance(kinds, str):
                kinds = [kinds]
            if set(kinds) != {MEMBER}:
                raise bad_request("K2HDKC cluster instances are all of type "
                                  "'member'; drop the type %s." % kinds)

    @staticmethod
    def _validate_members(context: Any, instances: Sequence[dict],
                          opts: Any, flavor: str | None = None,
                          volume: int | None = None) -> None:
        """One flavor, one volume size (when volumes are on), one
        network for all members, and room in the quota."""
        with _as_bad_request():
            cluster_models.validate_instance_flavors(
                context, instances, opts.volume_support, opts.device_path)
            size = cluster_models.get_required_volume_size(
                instances, opts.volume_support)
            cluster_models.assert_homogeneous_cluster(
                instances, required_flavor=flavor,
                required_volume_size=volume)
            cluster_models.validate_instance_nics(context, instances)
        check_quotas(context.project_id, {'instances': len(instances),
                                          'volumes': size or 0})

    @staticmethod
    def _create_instances(context: Any, db_info: Any, datastore: Any,
                          datastore_version: Any, instances: Sequence[dict],
                          locality: Any, configuration_id: Any,
                          image_id: str | None,
                          created: list[Any] | None = None) -> list[Any]:
        """Each member in turn; ``created`` (if given) holds the ones
        made so far when a later one fails."""
        member_config = {'id': db_info.id, 'instance_type': MEMBER}
        index = int(time.time())
        created = [] if created is None else created
        for inst in instances:
            name = inst.get('name') or '%s-member-%d' % (db_info.name, index)
            index += 1
            created.append(Instance.create(
                context, name, inst['flavor_id'],
                datastore_version.image_id or image_id, [], [],
                datastore, datastore_version, inst.get('volume_size'), None,
                availability_zone=inst.get('availability_zone'),
                nics=inst.get('nics'), configuration_id=configuration_id,
                cluster_config=member_config,
                volume_type=inst.get('volume_type'),
                modules=inst.get('modules'), locality=locality,
                region_name=inst.get('region_name')))
        return created

    @classmethod
    def create(cls, context: Any, name: str, datastore: Any,
               datastore_version: Any, instances: list[dict],
               extended_properties: dict | None, locality: Any,
               configuration: str | None,
               image_id: str | None = None,
               restore: Sequence[str] | None = None) -> K2hdkcCluster:
        """``restore``: backup ids of a set in ring order (the backup-set
        API checked them); one member per backup, each loading its own
        before it first starts (doc/backup.md §6)."""
        opts = _opts(datastore_version)
        if restore is not None and len(restore) != len(instances):
            raise bad_request('The backup set has %d member backups; the '
                              'restored cluster needs as many members, '
                              'not %d.' % (len(restore), len(instances)))
        if extended_properties:
            raise bad_request('K2HDKC clusters take no extended properties; '
                              'drop %s.' % sorted(extended_properties))
        if configuration:
            raise bad_request('K2HDKC clusters do not support '
                              'configuration groups; drop "configuration".')
        cls._check_count(len(instances), opts)
        nics.normalise(context, instances)
        placement.same_place(instances)
        cls._validate_members(context, instances, opts)
        db_info = cluster_models.DBCluster.create(
            name=name, tenant_id=context.project_id,
            datastore_version_id=datastore_version.id,
            task_status=ClusterTasks.BUILDING_INITIAL,
            configuration_id=configuration)
        try:
            cls._create_instances(context, db_info, datastore,
                                  datastore_version, instances, locality,
                                  configuration, image_id)
            tasks = task_api.load(context, datastore_version.manager)
            if restore is None:
                tasks.create_cluster(db_info.id)
            else:
                tasks.restore_cluster(db_info.id, list(restore))
        except Exception as exc:
            raise cls._abandon_create(context, db_info, datastore,
                                      datastore_version, exc) from exc
        return cls(context, db_info, datastore, datastore_version)

    @classmethod
    def _abandon_create(cls, context: Any, db_info: Any, datastore: Any,
                        datastore_version: Any,
                        exc: Exception) -> Exception:
        """Creating a member (e.g. an unknown module, a quota reached
        part way) or the hand-off failed. No ring and no K2HR3 object
        exists yet, so the cluster and the members made so far are
        deleted (the ordinary cluster delete) instead of left as a
        cluster nobody asked for. Returns the error to answer."""
        db_info.update(task_status=ClusterTasks.NONE)
        left = ' Nothing was kept: the cluster is being deleted.'
        try:
            cls(context, db_info, datastore, datastore_version).delete()
        except Exception:
            LOG.exception('Cluster %s: could not delete it after its '
                          'creation failed', db_info.id)
            left = (' Cluster %s was left behind; delete it.' % db_info.id)
        LOG.error('Cluster %s: creation failed (%s).%s', db_info.id, exc,
                  left)
        if isinstance(exc, (exception.TroveError, webob.exc.HTTPError)):
            return exc
        return faults.CreateFailed(
            'Creating the cluster failed while creating its members '
            '(%s).%s' % (exc, left))

    def _ring_settings(self) -> ClusterSettings:
        """The parameters recorded at create, not the configuration's
        (doc/k2hr3-layout.md §1); read as the requester. A record the
        project's user broke is theirs to fix (400); K2HR3 not answering
        is not, nor is a K2HR3 configuration this service cannot use."""
        def text(exc: Exception) -> str:
            return ('Cannot check the request against the ring parameters '
                    'of cluster %s: %s' % (self.id, exc))
        try:
            registry = self.registry_factory(CONF, self.context, self.id)
        except reg.RegistryError as exc:
            raise exception.TroveError(message=text(exc)) from exc
        try:
            return registry.ring_settings()
        except reg.RegistryError as exc:
            if isinstance(exc.__cause__, K2hr3ValueError):
                raise bad_request(text(exc)) from exc
            raise exception.TroveError(message=text(exc)) from exc

    def _members(self) -> list[Any]:
        return DBInstance.find_all(cluster_id=self.id, deleted=False).all()

    @contextlib.contextmanager
    def _claimed(self, task: Any, expected: Iterable[Any] = (
            ClusterTasks.NONE,)) -> Iterator[dict]:
        """Hold ``task`` for the block; give it back if the block fails
        (a request refused or a hand-off that did not happen), unless
        the block set ``handed_off``: then the taskmanager ends it."""
        claim.claim(self.db_info, task, expected)
        state = {'handed_off': False}
        try:
            yield state
        except BaseException:
            if not state['handed_off']:
                claim.release(self.db_info, task)
            raise

    def _taskmanager(self) -> Any:
        return task_api.load(self.context, self.ds_version.manager)

    def _again(self) -> K2hdkcCluster:
        return self.__class__(self.context, self.db_info, self.ds,
                              self.ds_version)

    @property
    def server_group(self) -> Any:
        """The cluster's own group (Trove's lookup never finds it, see
        ``placement``); None if Nova cannot say, as in Trove."""
        if not self._server_group_loaded:
            try:
                self._server_group = placement.server_group(
                    self.context, self._members())
            except Exception:
                LOG.exception('Cluster %s: could not load its server group',
                              self.id)
                self._server_group = None
            self._server_group_loaded = True
        return self._server_group

    def _placement(self, existing: Sequence[Any]
                   ) -> tuple[placement.Placement, Any]:
        """Where the members are and their server group; without both,
        grow could break locality, so it stops."""
        try:
            return (placement.of_members(self.context, existing),
                    placement.server_group(self.context, existing))
        except Exception as exc:
            raise faults.GrowFailed(
                'Could not read where the members of cluster %s run (Nova/'
                'Neutron): %s. Nothing was changed; retry later.'
                % (self.id, exc)) from exc

    def grow(self, instances: list[dict],
             image_id: str | None = None) -> K2hdkcCluster:
        """Refused while another task runs; new members must match the
        existing flavor, volume size, network, region and availability
        zone, and join the cluster's server group."""
        with self._claimed(ClusterTasks.GROWING_CLUSTER) as state:
            opts = _opts(self.ds_version)
            existing = self._members()
            if not instances:
                raise bad_request('Name at least one instance to add.')
            self._check_types(instances)
            self._check_count(len(existing) + len(instances), opts)
            # Before any member is built: a record or template the
            # project's user edited is a 400 naming it, not a member
            # booted and deleted again (doc/k2hr3-layout.md §5).
            self._ring_settings()
            flavor = str(existing[0].flavor_id) if existing else None
            volume = existing[0].volume_size if (
                existing and opts.volume_support) else None
            for inst in instances:
                inst['flavor_id'] = str(inst['flavor_id'])
            nics.normalise(self.context, instances)
            where, group = self._placement(existing)
            placement.fit(instances, where)
            self._validate_members(self.context, instances, opts, flavor,
                                   volume)
            locality = srv_grp.ServerGroup.convert_to_hint(group)
            created: list[Any] = []
            try:
                self._create_instances(
                    self.context, self.db_info, self.ds, self.ds_version,
                    instances, locality, self.db_info.configuration_id,
                    image_id, created)
            except Exception as exc:
                raise self._abandon_grow(
                    {db.id for db in existing}, created, exc, state
                ) from exc
            self._taskmanager().grow_cluster(self.id, [i.id for i in created])
        return self._again()

    def _abandon_grow(self, before: set[str], created: Sequence[Any],
                      exc: Exception, state: dict) -> Exception:
        """Creating the new members failed part way; none is in the ring.
        A row that never reached the taskmanager is dropped here; members
        the taskmanager is building are handed to it to delete once
        built, and it ends the task. Returns the error to answer."""
        building = [inst.id for inst in created]
        for db in self._members():
            if db.id not in before and db.id not in building:
                LOG.warning('Cluster %s: dropping member %s, whose creation '
                            'failed', self.id, db.id)
                db.delete()
        left = ''
        if building:
            try:
                self._taskmanager().discard_members(self.id, building)
                state['handed_off'] = True
                left = (' The %d member(s) already created (%s) are being '
                        'deleted; the cluster task ends when they are gone.'
                        % (len(building), ', '.join(building)))
            except Exception:
                LOG.exception('Cluster %s: could not hand %s to the '
                              'taskmanager for deletion', self.id, building)
                left = (' The member(s) %s were created but could not be '
                        'removed; shrink them away.' % ', '.join(building))
        LOG.error('Cluster %s: grow failed creating members: %s.%s',
                  self.id, exc, left)
        if isinstance(exc, (exception.TroveError, webob.exc.HTTPError)):
            return exc
        return faults.GrowFailed(
            'Growing cluster %s failed while creating its new members: %s. '
            'The ring was not touched.%s' % (self.id, exc, left))

    def shrink(self, instance_ids: list[str]) -> K2hdkcCluster:
        """At most max(1, REPLICA) members leave at once
        (``ringparams.shrink_limit``), never below the minimum, only
        known members."""
        with self._claimed(ClusterTasks.SHRINKING_CLUSTER):
            opts = _opts(self.ds_version)
            ids = list(instance_ids)
            known = {db.id for db in self._members()}
            if not ids:
                raise bad_request('Name at least one member to remove.')
            if len(set(ids)) != len(ids):
                raise bad_request('Each member may be named once.')
            unknown = sorted(set(ids) - known)
            if unknown:
                raise bad_request('Not members of cluster %s: %s.'
                                  % (self.id, ', '.join(unknown)))
            # One leaver is always allowed; more need the recorded
            # REPLICA.
            refusal = len(ids) > 1 and ringparams.shrink_refusal(
                len(ids), self._ring_settings())
            if refusal:
                raise bad_request(refusal)
            self._check_count(len(known) - len(ids), opts)
            self._taskmanager().shrink_cluster(self.id, ids)
        return self._again()

    def restart(self) -> K2hdkcCluster:
        with self._claimed(ClusterTasks.RESTARTING_CLUSTER):
            self._taskmanager().restart_cluster(self.id)
        return self._again()

    def upgrade(self, datastore_version: Any) -> K2hdkcCluster:
        with self._claimed(ClusterTasks.UPGRADING_CLUSTER):
            self._taskmanager().upgrade_cluster(self.id,
                                                datastore_version.id)
        return self._again()

    def delete(self) -> None:
        """A repeated delete retries the running one (as in Trove), and a
        delete that failed (``DELETE_FAILED``) runs again; any other
        running task makes it wait."""
        claim.claim(self.db_info, ClusterTasks.DELETING,
                    (ClusterTasks.NONE, ClusterTasks.DELETING,
                     k2tasks.DELETE_FAILED))
        super().delete()


def _with_ring_states(view: ClusterView) -> tuple[list, list]:
    """Member dicts; for ``cluster show`` only (``load_servers``), each
    gets its own ``ring_state``. ``cluster list`` makes no guest RPC."""
    instances, ips = view._build_instances([MEMBER], [MEMBER])
    if not view.load_servers:
        return instances, ips
    context = view.cluster.context
    manager = view.cluster.datastore_version.manager

    def ask(member: str) -> Any:
        return clients.create_guest_client(context, member,
                                           manager).node_status()

    # A member still being built has no agent to answer yet.
    building = {inst['id'] for inst in instances
                if inst.get('status') == 'BUILD'}
    states = ringview.collect([inst['id'] for inst in instances
                               if inst['id'] not in building], ask)
    for inst in instances:
        inst['ring_state'] = states.get(
            inst['id'], ringview.entry(None, ringview.BUILDING))
    return instances, ips


class K2hdkcClusterView(ClusterView):
    """Members with type, status (HEALTHY only at ring state 0x21, see
    the guest contract), flavor, volume, IPs and, on show, ring state."""

    def build_instances(self) -> tuple[list, list]:
        return _with_ring_states(self)


class K2hdkcMgmtClusterView(MgmtClusterView):

    def build_instances(self) -> tuple[list, list]:
        return _with_ring_states(self)
