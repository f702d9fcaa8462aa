"""The K2HR3 side of a cluster, as the taskmanager needs it.

``ClusterRegistry`` is the narrow interface the strategies depend on;
``K2hr3Registry`` implements it with ``trove_k2hdkc.k2hr3.ClusterK2hr3``.

Tenant (decided): the K2HR3 tenant is the Keystone project **name**,
lower-cased, because K2HR3's Keystone integration names tenants after
projects (doc/k2hr3-layout.md §1). Trove's RPC context
does not carry the project name (oslo.context ``to_dict`` drops it and
Trove's ContextMiddleware never sets it), so without one the tenant is
the user's K2HR3 tenant whose id is the context's project id; it is
never guessed.
The user token is the request's Keystone token (``context.auth_token``),
exchanged for a scoped K2HR3 token; neither is ever logged.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
import dataclasses
import time
from typing import Any
from typing import Protocol

from oslo_log import log as logging

from trove_k2hdkc import k2hr3
from trove_k2hdkc.cluster.model import Member
from trove_k2hdkc.exceptions import K2hdkcError
from trove_k2hdkc.k2hr3 import errors as k2hr3_errors
from trove_k2hdkc.k2hr3 import layout
from trove_k2hdkc.k2hr3.access import NodeAccess
from trove_k2hdkc.k2hr3.settings import ClusterSettings

LOG = logging.getLogger(__name__)

MEMBER_PORT = layout.MEMBER_PORT


class RegistryError(K2hdkcError):
    """The cluster's K2HR3 objects could not be read or changed."""


class ClusterRegistry(Protocol):
    """K2HR3 objects of one cluster (all calls idempotent)."""

    def provision(self, ring: ClusterSettings | None = None
                  ) -> NodeAccess: ...

    def ring_settings(self) -> ClusterSettings: ...

    def add_servers(self, members: Sequence[Member]) -> None: ...

    def remove_servers(self, members: Sequence[Member]) -> None: ...

    def teardown(self) -> None: ...


def k2hr3_tenant(context: Any) -> str | None:
    """The K2HR3 tenant named by the context, or None if it has none."""
    name = getattr(context, 'project_name', None)
    return str(name).lower() if name else None


def scoped_user_token(client: Any, keystone_token: str,
                      context: Any) -> Any:
    """Scoped K2HR3 user token of the requester's project."""
    tenant = k2hr3_tenant(context)
    if tenant:
        return client.scoped_token_from_keystone(keystone_token, tenant)
    project_id = getattr(context, 'project_id', None)
    if not project_id:
        raise RegistryError('the request context has neither a project '
                            'name nor a project id')
    unscoped = client.unscoped_token_from_keystone(keystone_token)
    names = {str(t.get('name')) for t in client.token_info(unscoped)[
        'tenants'] if str(t.get('id', '')).lower() == project_id.lower()
        and t.get('name')}
    if len(names) != 1:
        raise RegistryError('K2HR3 lists %d tenants for project %s; '
                            'expected exactly one' % (len(names),
                                                      project_id))
    return client.scoped_token_from_unscoped(unscoped, names.pop())


@dataclasses.dataclass
class K2hr3Registry:
    """``ClusterRegistry`` over ``ClusterK2hr3``; K2HR3 errors become
    ``RegistryError`` here, once."""

    objects: layout.ClusterK2hr3
    api_url: str
    teardown_attempts: int = 1
    teardown_backoff: float = 0.0
    sleep: Callable[[float], None] = time.sleep

    def provision(self, ring: ClusterSettings | None = None
                  ) -> NodeAccess:
        """Create or complete the cluster's objects. At create ``ring``
        is None and the configuration's settings are recorded; every
        later call passes ``ring_settings()`` so that a live ring keeps
        its parameters (doc/k2hr3-layout.md §1)."""
        try:
            tokens = self.objects.provision(ring)
        except k2hr3.K2hr3Error as exc:
            raise RegistryError('K2HR3 provisioning failed: %s'
                                % exc) from exc
        names = self.objects.names
        return NodeAccess(k2hr3_url=self.api_url,
                          resource_yrn=str(names.resource_yrn(layout.SERVER)),
                          role_yrn=str(names.role_yrn(layout.SERVER)),
                          role_token=tokens.server.token)

    def ring_settings(self) -> ClusterSettings:
        """The ring-wide parameters recorded when the cluster was created,
        validated; ``RegistryError`` when they cannot be read or are not
        usable (the operation then changes nothing)."""
        try:
            return self.objects.recorded_settings()
        except k2hr3.K2hr3Error as exc:
            raise RegistryError('K2HR3: could not read the ring parameters '
                                'of cluster %s: %s'
                                % (self.objects.names.cluster_id, exc)
                                ) from exc

    def add_servers(self, members: Sequence[Member]) -> None:
        try:
            for m in members:
                self.objects.add_member(layout.SERVER, m.ip, m.id, tag=m.id,
                                        port=MEMBER_PORT)
        except k2hr3.K2hr3Error as exc:
            raise RegistryError('K2HR3 add server hosts failed: %s'
                                % exc) from exc

    def remove_servers(self, members: Sequence[Member]) -> None:
        """Every member's host leaves the server role; K2HR3 failing
        transiently is retried as the teardown is (a shrink's ring has
        changed already: giving up would leave the leavers listed)."""
        def remove() -> None:
            for m in members:
                self.objects.remove_member(layout.SERVER, m.ip, m.id,
                                           port=MEMBER_PORT)
        self._again('remove server hosts', remove)

    def teardown(self) -> None:
        """Delete every object; while K2HR3 fails transiently the whole
        (idempotent) teardown runs again, up to ``teardown_attempts``
        times with a doubling wait (doc/k2hr3-layout.md §4)."""
        self._again('teardown', self.objects.teardown)

    def _again(self, what: str, action: Callable[[], None]) -> None:
        """``action`` (idempotent) until it succeeds, run again while it
        fails transiently, up to ``teardown_attempts`` runs with a
        doubling wait from ``teardown_backoff``."""
        attempt = 1
        while True:
            try:
                action()
                return
            except k2hr3.K2hr3Error as exc:
                if (attempt >= self.teardown_attempts
                        or not k2hr3_errors.is_transient(exc)):
                    raise RegistryError('K2HR3 %s failed: %s'
                                        % (what, exc)) from exc
                delay = self.teardown_backoff * 2 ** (attempt - 1)
                LOG.warning('K2HR3 %s of cluster %s failed transiently '
                            '(run %d of %d), again in %.1fs: %s', what,
                            self.objects.names.cluster_id, attempt,
                            self.teardown_attempts, delay, exc)
                self.sleep(delay)
                attempt += 1


def registry_from_conf(conf: Any, context: Any,
                       cluster_id: str) -> K2hr3Registry:
    """Build the registry for ``cluster_id`` acting as the requester."""
    token = getattr(context, 'auth_token', None)
    if not token:
        raise RegistryError('the request context carries no Keystone token')
    try:
        client = k2hr3.client_from_conf(conf)
        # Guests may reach K2HR3 through another address than the
        # controller.
        guest_url = k2hr3.guest_api_url_from_conf(conf)
    except k2hr3.K2hr3Error as exc:
        raise RegistryError('K2HR3 is not usable as configured: %s'
                            % exc) from exc
    try:
        user = scoped_user_token(client, token, context)
        objects = layout.ClusterK2hr3(
            client, user, cluster_id, k2hr3.cluster_settings_from_conf(conf))
    except k2hr3.K2hr3Error as exc:
        raise RegistryError('K2HR3 login failed: %s' % exc) from exc
    opts = conf.get('k2hdkc') if hasattr(conf, 'get') else conf.k2hdkc
    return K2hr3Registry(objects=objects, api_url=guest_url,
                         teardown_attempts=opts.k2hr3_teardown_attempts,
                         teardown_backoff=opts.k2hr3_teardown_backoff)
