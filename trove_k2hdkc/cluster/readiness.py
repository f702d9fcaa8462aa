"""Wait until a create's or grow's members are ready, and stop at once
on a member that never will be.

Trove's own wait (``_all_instances_ready``) stops early only on a
failure status the instance's build wrote. A member whose Nova server
went to ERROR after its build stopped watching, or vanished (Trove's
build then stops watching without a word), never gets one, and the
wait runs for Trove's whole ``usage_timeout`` (30 minutes by default)
while the cluster task holds every other operation off. Here each
member's Nova server is looked at too, and the wait is bounded by the
datastore's ``[k2hdkc] usage_timeout``; the failure names every member
that is not ready and why (doc/ring-procedures.md §3: before the first
SERVICEIN a grow that fails is undone).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
import time
from typing import Any

from trove.common import exception as trove_exc
from trove.instance import models as inst_models
from trove.instance.service_status import ServiceStatuses

from trove_k2hdkc.cluster.errors import ProcedureError

READY = 'ready'
STEP = 'wait for members'
_FAILED = (ServiceStatuses.FAILED, ServiceStatuses.FAILED_TIMEOUT_GUESTAGENT)


def wait(ids: Sequence[str], state: Callable[[str], str | None],
         timeout: float, interval: float,
         sleep: Callable[[float], None] = time.sleep,
         monotonic: Callable[[], float] = time.monotonic) -> None:
    """Poll ``state(id)`` (``READY``, None while building, or why the
    member will never be ready) until every member is ready; raise
    ``ProcedureError`` naming each failed member as soon as one failed,
    or each member not ready when ``timeout`` runs out."""
    deadline = monotonic() + timeout
    while True:
        states = {i: state(i) for i in ids}
        failed = {i: s for i, s in states.items() if s not in (READY, None)}
        if failed:
            raise ProcedureError(STEP, '; '.join(
                'member %s will not become ready: %s' % item
                for item in sorted(failed.items())))
        waiting = sorted(i for i, s in states.items() if s is None)
        if not waiting:
            return
        if monotonic() >= deadline:
            raise ProcedureError(STEP, 'member%s %s did not become ready '
                                 'within %ss' % ('s' if len(waiting) > 1
                                                 else '', ', '.join(waiting),
                                                 timeout))
        sleep(interval)


def trove_state(context: Any, instance_id: str) -> str | None:
    """One member as Trove and Nova see it, for ``wait``."""
    try:
        db = inst_models.DBInstance.find_by(id=instance_id, deleted=False)
        status = inst_models.InstanceServiceStatus.find_by(
            instance_id=instance_id).get_status()
    except trove_exc.ModelNotFoundError:
        return 'Trove has no record of it'
    if status == ServiceStatuses.INSTANCE_READY:
        return READY
    if status in _FAILED or db.task_status.is_error:
        why = 'Trove reports %s (task %s)' % (status.api_status,
                                              db.task_status.action)
        nova = _server_trouble(context, db) if db.compute_instance_id \
            else None
        return why + ('; ' + nova if nova else '')
    if not db.compute_instance_id:
        return None   # the server is not created yet
    return _server_trouble(context, db)


def server_trouble(context: Any, instance_id: str) -> str | None:
    """Why member ``instance_id``'s Nova server will never serve, or
    None (also when Trove or Nova cannot say)."""
    try:
        db = inst_models.DBInstance.find_by(id=instance_id, deleted=False)
    except trove_exc.ModelNotFoundError:
        return None
    return _server_trouble(context, db) if db.compute_instance_id else None


def _server_trouble(context: Any, db: Any) -> str | None:
    """Why the member's Nova server will never serve (gone, ERROR with
    Nova's fault), or None."""
    try:
        server = inst_models.load_server(context, db.id,
                                         db.compute_instance_id,
                                         db.region_id)
    except trove_exc.ComputeInstanceNotFound:
        return 'its Nova server %s is gone' % db.compute_instance_id
    except trove_exc.TroveError:
        return None   # Nova did not answer: look again
    if server.status in ('ERROR', 'FAILED'):
        fault = getattr(server, 'fault', None) or {}
        return 'its Nova server %s is %s%s' % (
            db.compute_instance_id, server.status,
            (': ' + fault['message']) if isinstance(fault, dict)
            and fault.get('message') else '')
    return None
