"""Refuse incremental backups of k2hdkc instances at the API (400).

Why here: a k2hdkc backup is a full archive of the node file
(doc/backup.md §3), and Trove 26 accepts ``incremental``/``parent_id``
for any datastore, so without this the request is accepted (202) and
only fails later in the guest. Trove offers no per-datastore hook
before its 202, so the plugin's API extension (the ``trove.api.
extensions`` entry point, no patch of Trove) routes ``/{project}/
backups`` through this controller first: an incremental request for an
instance of the k2hdkc datastore is answered 400, every other request
goes on unchanged to Trove's own backups controller.
"""

from __future__ import annotations

from typing import Any

from trove.common import exception
from trove.common import extensions
from trove.common import utils
from trove.common import wsgi
from trove.datastore.models import DatastoreVersion
from trove.instance.models import DBInstance
import webob

MANAGER = 'k2hdkc'
COLLECTION = '{tenant_id}/backups'
MESSAGE = ('k2hdkc backups are full backups: incremental backups are not '
           'supported (instance %s). Create the backup without '
           '--incremental and without a parent backup.')


def _forward(req: Any) -> webob.Response:
    """Trove's own answer to ``req`` (the application behind the
    extension middleware)."""
    return webob.Request(req.environ).get_response(
        req.environ['extended.app'])


def wants_increment(body: Any) -> str | None:
    """The instance of an incremental backup request, or None."""
    spec = body.get('backup') if isinstance(body, dict) else None
    if not isinstance(spec, dict) or spec.get('restore_from'):
        return None
    if not (spec.get('incremental') or spec.get('parent_id')):
        return None
    instance = spec.get('instance')
    return utils.get_id_from_href(instance) if isinstance(
        instance, str) and instance else None


def is_k2hdkc(context: Any, instance_id: str) -> bool:
    """The instance exists, the caller may see it, and it is k2hdkc
    (otherwise Trove answers as it always does)."""
    try:
        db = DBInstance.find_by(id=instance_id, deleted=False)
    except exception.NotFound:
        return False
    if not getattr(context, 'is_admin', False) and \
            db.tenant_id != getattr(context, 'project_id', None):
        return False
    if not db.datastore_version_id:
        return False
    try:
        version = DatastoreVersion.load_by_uuid(db.datastore_version_id)
    except exception.NotFound:
        return False
    return bool(version.manager == MANAGER)


class FullBackupsOnly(wsgi.Controller):
    """``POST /backups``: 400 for an incremental k2hdkc backup; every
    request otherwise goes to Trove unchanged."""

    def create(self, req: Any, body: Any, tenant_id: str) -> Any:
        instance_id = wants_increment(body)
        if instance_id and is_k2hdkc(req.environ.get(wsgi.CONTEXT_KEY),
                                     instance_id):
            raise exception.BadRequest(message=MESSAGE % instance_id)
        return _forward(req)

    def index(self, req: Any, **kwargs: Any) -> Any:
        return _forward(req)

    show = update = delete = new = edit = index


class PassThrough(wsgi.TroveResponseSerializer):
    """Trove's serializer, except that Trove's own forwarded response is
    returned as it is."""

    def serialize(self, response_data: Any, content_type: Any = None,
                  action: str = 'default') -> Any:
        if isinstance(response_data, webob.Response):
            return response_data
        return super().serialize(response_data, content_type, action)


def resource() -> extensions.BaseResourceExtension:
    return extensions.BaseResourceExtension(
        COLLECTION, FullBackupsOnly(),
        deserializer=wsgi.RequestDeserializer(), serializer=PassThrough())
