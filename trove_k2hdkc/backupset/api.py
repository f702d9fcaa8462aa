"""Trove API extension: cluster backup sets (doc/backup.md §6).

Trove 26 refuses backups of cluster members (``Backup.create``), so a set
is offered here, under ``/v1.0/{project}/k2hdkc-backup-sets``, loaded by
trove-api through the ``trove.api.extensions`` entry point ``k2hdkc``:

* ``POST``   create a set of a cluster   ``{"backup_set": {"cluster_id",
  "name", "description"?}}``
* ``GET``    list the project's sets (an admin: ``?project_id=``)
* ``GET    /{id}`` show one; ``DELETE /{id}`` delete it and its objects
* ``POST   /{id}/restore`` a new cluster from it ``{"restore": {"name",
  "instance": {"flavorRef", "volume": {"size"}, "nics"?,
  "availability_zone"?}}}``, one member per member backup

Policy (``k2hdkc:backup_set:<action>``, default ``rule:admin_or_owner``):
only the project that owns the cluster or set, and admins. Another
project gets 404, as for Trove's own resources.
"""

from __future__ import annotations

from collections.abc import Callable
import functools
from typing import Any
import uuid

from oslo_log import log as logging
from oslo_policy import policy as oslo_policy
from trove.backup.models import Backup
from trove.backup.models import DBBackup
from trove.backup.state import BackupState
from trove.cluster import views as cluster_views
from trove.cluster.models import Cluster
from trove.cluster.models import DBCluster
from trove.common import cfg
from trove.common import exception
from trove.common import extensions
from trove.common import notification
from trove.common import policy
from trove.common import utils
from trove.common import wsgi
from trove.datastore import models as ds_models
from trove.instance.models import DBInstance
from trove.instance.models import Instance
from trove.quota.quota import run_with_quotas
from trove.taskmanager import api as task_api
import webob.exc

from trove_k2hdkc.backupset import fullonly
from trove_k2hdkc.backupset import sets
from trove_k2hdkc.cluster import claim
from trove_k2hdkc.cluster import tasks as k2tasks
from trove_k2hdkc.cluster.api import K2hdkcCluster

LOG = logging.getLogger(__name__)
CONF = cfg.CONF
MANAGER = 'k2hdkc'
COLLECTION = '{tenant_id}/k2hdkc-backup-sets'
ACTIONS = ('create', 'index', 'show', 'delete', 'restore')
RULES = {a: 'k2hdkc:backup_set:%s' % a for a in ACTIONS}
MAX_NAME = 80


def policy_defaults() -> list[oslo_policy.RuleDefault]:
    return [oslo_policy.RuleDefault(
        rule, 'rule:admin_or_owner',
        description='%s cluster backup sets: the owning project and '
                    'admins.' % action.capitalize())
        for action, rule in RULES.items()]


def register_policy() -> None:
    enforcer = policy.get_enforcer()
    missing = [r for r in policy_defaults()
               if r.name not in enforcer.registered_rules]
    if missing:
        enforcer.register_defaults(missing)
        enforcer.load_rules(force_reload=True)


def authorize(context: Any, action: str, project_id: str) -> None:
    """``k2hdkc:backup_set:<action>`` on an object of ``project_id``."""
    register_policy()
    policy.authorize_on_target(context, RULES[action],
                               {'tenant': project_id})


def _bad(text: str) -> exception.BadRequest:
    return exception.BadRequest(message=text)


def _not_found(what: str) -> webob.exc.HTTPNotFound:
    return webob.exc.HTTPNotFound(detail='%s could not be found.' % what)


def _http(method: Callable) -> Callable:
    """Policy refusals are 403 here too (Trove's resource maps them; an
    extension's resource has no map and would say 400)."""
    @functools.wraps(method)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except exception.PolicyNotAuthorized as exc:
            raise webob.exc.HTTPForbidden(detail=str(exc)) from exc
    return wrapped


def _section(body: Any, key: str) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise _bad('The request body must be {"%s": {...}}.' % key)
    return body[key]


def _string(spec: dict[str, Any], key: str, limit: int) -> str:
    value = spec.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _bad('"%s" must be a non-empty string.' % key)
    if len(value) > limit:
        raise _bad('"%s" is longer than %d characters.' % (key, limit))
    return value.strip()


def _optional_string(spec: dict[str, Any], key: str,
                     limit: int) -> str | None:
    return None if spec.get(key) is None else _string(spec, key, limit)


def _rows(project_id: str | None = None, set_id: str | None = None
          ) -> list[Any]:
    pattern = '%s %s %%' % (sets.MARKER, set_id) if set_id else (
        sets.MARKER + ' %')
    with DBBackup.query() as query:
        query = query.filter(DBBackup.deleted == False,  # noqa: E712
                             DBBackup.description.like(pattern))
        if project_id:
            query = query.filter(DBBackup.tenant_id == project_id)
        return query.all()


class BackupSetController(wsgi.Controller):

    def _load(self, context: Any, set_id: str, action: str
              ) -> sets.BackupSet:
        found = sets.group(_rows(set_id=set_id)).get(set_id)
        if found is None or (not context.is_admin
                             and found.project_id != context.project_id):
            raise _not_found('Backup set %s' % set_id)
        authorize(context, action, found.project_id)
        return found

    @_http
    def index(self, req: Any, tenant_id: str) -> wsgi.Result:
        context = req.environ[wsgi.CONTEXT_KEY]
        project = req.GET.get('project_id') or context.project_id
        authorize(context, 'index', project)
        found = sets.group(_rows(project_id=project))
        return wsgi.Result({'backup_sets': [
            s.view() for s in sorted(found.values(),
                                     key=lambda s: s.view()['created'] or '')
        ]}, 200)

    @_http
    def show(self, req: Any, tenant_id: str, id: str) -> wsgi.Result:  # noqa: A002
        context = req.environ[wsgi.CONTEXT_KEY]
        return wsgi.Result({'backup_set': self._load(context, id,
                                                     'show').view()}, 200)

    @_http
    def create(self, req: Any, body: Any, tenant_id: str) -> wsgi.Result:
        context = req.environ[wsgi.CONTEXT_KEY]
        spec = _section(body, 'backup_set')
        cluster_id = _string(spec, 'cluster_id', 64)
        name = _string(spec, 'name', MAX_NAME)
        text = _optional_string(spec, 'description', sets.MAX_TEXT)
        try:
            db = DBCluster.find_by(context=context, id=cluster_id,
                                   deleted=False)
        except exception.ModelNotFoundError:
            raise _not_found('Cluster %s' % cluster_id) from None
        authorize(context, 'create', db.tenant_id)
        version = ds_models.DatastoreVersion.load_by_uuid(
            db.datastore_version_id)
        if version.manager != MANAGER:
            raise _bad('Cluster %s is not a K2HDKC cluster; backup sets '
                       'are for K2HDKC clusters.' % cluster_id)
        if not CONF.get(MANAGER).backup_strategy:
            raise _bad('Backups are disabled ([k2hdkc] backup_strategy '
                       'is empty).')
        claim.claim(db, k2tasks.BACKING_UP)
        try:
            infos = self._start(context, db, version, name, text)
        except BaseException:
            claim.release(db, k2tasks.BACKING_UP)
            raise
        tag = sets.parse(infos[0]['description'])
        if tag is None:
            raise exception.TroveError(
                'Backup %s of the new set carries no set tag.'
                % infos[0]['id'])
        found = sets.group(_rows(set_id=tag.set_id))
        return wsgi.Result({'backup_set': next(iter(found.values())).view()},
                           202)

    @staticmethod
    def _start(context: Any, db: Any, version: Any, name: str,
               text: str | None) -> list[dict[str, Any]]:
        members = [m.id for m in DBInstance.find_all(
            cluster_id=db.id, deleted=False).all()]
        if not members:
            raise _bad('Cluster %s has no members.' % db.id)
        for member in members:
            Instance.load(context, member).validate_can_perform_action()
        if CONF.storage_strategy == 'swift':
            Backup.verify_swift_auth_token(context)
        datastore = ds_models.Datastore.load(version.datastore_id)
        set_id = str(uuid.uuid4())
        order = sets.ring_order(members)

        def records() -> list[dict[str, Any]]:
            infos = []
            for index, member in enumerate(order, 1):
                tag = sets.Tag(set_id, index, len(order), db.id, text or '')
                row = DBBackup.create(
                    name=name, description=tag.description(),
                    tenant_id=db.tenant_id, state=BackupState.NEW,
                    instance_id=member, parent_id=None,
                    datastore_version_id=version.id, deleted=False,
                    location=None, checksum=None, backup_type='full',
                    size=None, storage_driver=CONF.storage_strategy)
                infos.append({
                    'id': row.id, 'name': name,
                    'description': row.description, 'instance_id': member,
                    'backup_type': 'full', 'checksum': None, 'parent': None,
                    'datastore': datastore.name,
                    'datastore_version': version.name,
                    'storage_driver': CONF.storage_strategy,
                    'swift_container': None})
            task_api.load(context, MANAGER).backup_cluster(db.id, infos)
            return infos
        infos = run_with_quotas(db.tenant_id, {'backups': len(order)},
                                records)
        LOG.info('Cluster %s: backup set %s of %d members accepted',
                 db.id, set_id, len(order))
        return infos

    @_http
    def delete(self, req: Any, tenant_id: str, id: str) -> wsgi.Result:  # noqa: A002
        context = req.environ[wsgi.CONTEXT_KEY]
        found = self._load(context, id, 'delete')
        if found.status == sets.BUILDING:
            raise webob.exc.HTTPConflict(
                detail='Backup set %s is still being made; delete it once '
                       'it has ended.' % id)
        ids = [m.id for m in found.members.values()]
        run_with_quotas(found.project_id, {'backups': -len(ids)},
                        lambda: task_api.load(context, MANAGER
                                              ).delete_backup_set(
                            found.project_id, ids))
        return wsgi.Result(None, 202)

    @_http
    def restore(self, req: Any, body: Any, tenant_id: str,
                id: str) -> wsgi.Result:  # noqa: A002
        context = req.environ[wsgi.CONTEXT_KEY]
        spec = _section(body, 'restore')
        name = _string(spec, 'name', MAX_NAME)
        node = spec.get('instance')
        if not isinstance(node, dict) or 'flavorRef' not in node:
            raise _bad('"restore" needs "instance": {"flavorRef": ..., '
                       '"volume": {"size": ...}, "nics": [...]}, used for '
                       'every member.')
        found = self._load(context, id, 'restore')
        if found.status != sets.COMPLETED:
            raise webob.exc.HTTPConflict(
                detail='Backup set %s is %s; only a COMPLETED set can be '
                       'restored.' % (id, found.status))
        backups = found.ordered()
        for backup in backups:
            if not backup.check_location_exist(
                    context,
                    verify_checksum=CONF.verify_swift_checksum_on_restore):
                raise exception.BackupFileNotFound(location=backup.location)
        version = ds_models.DatastoreVersion.load_by_uuid(
            backups[0].datastore_version_id)
        datastore = ds_models.Datastore.load(version.datastore_id)
        instances = [self._member(node) for _ in backups]
        context.notification = notification.DBaaSClusterCreate(
            context, request=req)
        with notification.StartNotification(
                context, name=name, datastore=datastore.name,
                datastore_version=version.name):
            cluster = K2hdkcCluster.create(
                context, name, datastore, version, instances, None, None,
                None, restore=[b.id for b in backups])
        LOG.info('Cluster %s: restoring backup set %s', cluster.id, id)
        shown = Cluster.load(context, cluster.id)
        view = cluster_views.load_view(shown, req=req, load_servers=False)
        return wsgi.Result(view.data(), 200)

    @staticmethod
    def _member(node: dict[str, Any]) -> dict[str, Any]:
        volume = node.get('volume') or {}
        try:
            size = int(volume['size']) if 'size' in volume else None
        except (TypeError, ValueError):
            raise _bad('"volume": {"size": ...} must be a whole number of '
                       'GB.') from None
        return {'flavor_id': utils.get_id_from_href(str(node['flavorRef'])),
                'volume_size': size,
                'volume_type': volume.get('type'),
                'nics': node.get('nics'),
                'availability_zone': node.get('availability_zone'),
                'region_name': None, 'modules': None}


class K2hdkc(extensions.ExtensionDescriptor):
    """trove-api loads this through the ``trove.api.extensions`` entry
    point ``k2hdkc``."""

    def get_name(self) -> str:
        return 'K2hdkc'

    def get_description(self) -> str:
        return ('K2HDKC cluster backup sets; incremental k2hdkc backups are '
                'refused.')

    def get_alias(self) -> str:
        return 'K2HDKC'

    def get_namespace(self) -> str:
        return 'https://opendev.org/x/trove-k2hdkc'

    def get_updated(self) -> str:
        return '2026-12-05T00:00:00+00:00'

    def get_resources(self) -> list[Any]:
        register_policy()
        return [extensions.ResourceExtension(
            COLLECTION, BackupSetController(),
            member_actions={'restore': 'POST'}),
            # incremental k2hdkc backups answer 400 (doc/backup.md §3)
            fullonly.resource()]
