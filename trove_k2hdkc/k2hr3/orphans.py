"""K2HR3 objects of this product that no cluster or instance owns.

Every object the plugin creates is named ``k2hdkc-<Trove id>`` (or a
child of it) in the K2HR3 tenant of the owning project
(doc/k2hr3-layout.md §1). An id whose Trove cluster or single instance is
gone, or lives in another project, owns nothing in this tenant: what is
there is an orphan (a failed delete, a crash mid-create, a hand edit).
Removing one is the cluster teardown itself (``ClusterK2hr3.teardown``),
so tokens go first and the end check decides (§4).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
import dataclasses
import re

from trove_k2hdkc.k2hr3 import errors
from trove_k2hdkc.k2hr3 import layout
from trove_k2hdkc.k2hr3 import models
from trove_k2hdkc.k2hr3.client import K2hr3Client
from trove_k2hdkc.k2hr3.settings import ClusterSettings

_PRODUCT_RE = re.compile(re.escape(layout.NAME_PREFIX)
                         + r'([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-'
                         r'[0-9a-f]{4}-[0-9a-f]{12})')


@dataclasses.dataclass(frozen=True)
class Orphan:
    """One orphaned id in one tenant and what K2HR3 still holds of it."""

    tenant: str
    tenant_id: str
    owner_id: str
    objects: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Tenant:
    name: str
    id: str
    token: models.UserToken = dataclasses.field(repr=False)


def tenants(client: K2hr3Client, keystone_token: str) -> Iterator[Tenant]:
    """Every K2HR3 tenant of the token's user, with a scoped token."""
    unscoped = client.unscoped_token_from_keystone(keystone_token)
    for info in client.token_info(unscoped)['tenants']:
        name = str(info.get('name') or '')
        if not name:
            continue
        yield Tenant(name=name, id=str(info.get('id') or name),
                     token=client.scoped_token_from_unscoped(unscoped, name))


def product_ids(client: K2hr3Client, token: models.UserToken) -> list[str]:
    """Ids named by this product's top-level resources, roles, policies."""
    found = set()
    for kind in ('resource', 'role', 'policy'):
        for name in client.list_names(token, kind):
            # A name, or a YRN ending in one (the API docs show YRNs).
            match = _PRODUCT_RE.fullmatch(name.rsplit(':', 1)[-1])
            if match:
                found.add(match.group(1))
    return sorted(found)


def objects_of(client: K2hr3Client, tenant: Tenant,
               owner_id: str) -> layout.ClusterK2hr3:
    return layout.ClusterK2hr3(client, tenant.token, owner_id,
                               ClusterSettings())


def find(client: K2hr3Client, tenant: Tenant,
         owned: Callable[[str, str], bool]) -> list[Orphan]:
    """Orphans in ``tenant``; ``owned(project id, id)`` says whether a
    live Trove cluster or instance of that project has that id."""
    out = []
    for owner_id in product_ids(client, tenant.token):
        if owned(tenant.id, owner_id):
            continue
        left = objects_of(client, tenant, owner_id).leftovers()
        if left:
            out.append(Orphan(tenant.name, tenant.id, owner_id, tuple(left)))
    return out


def remove(client: K2hr3Client, tenant: Tenant, orphan: Orphan) -> None:
    """Tear the orphan down; ``K2hr3Error`` (``K2hr3LeftBehindError``
    naming each object) if anything remains."""
    if orphan.tenant != tenant.name:
        raise errors.K2hr3ValueError('orphan of another tenant')
    objects_of(client, tenant, orphan.owner_id).teardown()
