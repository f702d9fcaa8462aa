"""Act in the cluster's own project, whoever asked.

A cluster's K2HR3 objects live in the K2HR3 tenant of the project that
created it (``clusters.tenant_id``). An admin of another project who
deletes it carries a token of *their* project, which K2HR3 scopes to
*their* tenant: the teardown would find nothing there and the owner's
objects would stay. So the taskmanager acts with a Keystone token of the
owner's project: the requester's own when it is of that project, else
one from ``[k2hdkc] k2hr3_owner_token_function``, by default Trove's
service user (``[service_credentials]``) scoped to the owner's project
(doc/k2hr3-layout.md §5 says why and what the operator grants). Tokens
are never logged or shown in ``repr``.
"""

from __future__ import annotations

from collections.abc import Callable
import dataclasses
from typing import Any

from oslo_log import log as logging

from trove_k2hdkc.exceptions import K2hdkcError

LOG = logging.getLogger(__name__)


class OwnerAuthError(K2hdkcError):
    """No token of the cluster's own project could be had."""


@dataclasses.dataclass(frozen=True)
class OwnerContext:
    """What ``registry.registry_from_conf`` reads of a request context.
    No project name: the K2HR3 tenant is then found by project id among
    the token's tenants, never guessed (``registry.scoped_user_token``).
    """

    project_id: str
    auth_token: str = dataclasses.field(repr=False)
    project_name: str | None = None


def _same_project(context: Any, project_id: str) -> bool:
    mine = getattr(context, 'project_id', None)
    return isinstance(mine, str) and mine.lower() == project_id.lower()


def service_token(project_id: str) -> str:
    """A Keystone token of Trove's service user scoped to ``project_id``
    (``[service_credentials]``, TLS as for Trove's own admin clients)."""
    from keystoneauth1 import exceptions as ks_exc
    from keystoneauth1 import loading
    from keystoneauth1 import session
    from trove.common import cfg

    creds = cfg.CONF.service_credentials
    loader: loading.BaseLoader[Any] = loading.get_plugin_loader('password')
    auth = loader.load_from_options(
        auth_url=creds.auth_url, username=creds.username,
        password=creds.password, user_domain_name=creds.user_domain_name,
        project_id=project_id)
    authtoken = getattr(cfg.CONF, 'keystone_authtoken', None)
    insecure = getattr(authtoken, 'insecure', False)
    verify = False if insecure else (getattr(authtoken, 'cafile', None)
                                     or True)
    try:
        token = session.Session(auth=auth, verify=verify).get_token()
    except ks_exc.ClientException as exc:
        raise OwnerAuthError(
            'Keystone gave the Trove service user (%s) no token of project '
            '%s: %s; give that user a role in the project'
            % (creds.username, project_id, type(exc).__name__)) from None
    if not token:
        raise OwnerAuthError('Keystone returned an empty token for '
                             'project %s' % project_id)
    return token


def configured_token_function() -> Callable[[str], str]:
    """``[k2hdkc] k2hr3_owner_token_function``, imported."""
    from oslo_utils import importutils
    from trove.common import cfg
    return importutils.import_class(
        cfg.CONF.get('k2hdkc').k2hr3_owner_token_function)


def owner_context(context: Any, project_id: str, *,
                  token_for: Callable[[str], str] | None = None) -> Any:
    """``context`` when it is of ``project_id`` (the owner asked), else
    an ``OwnerContext`` with a token of ``project_id`` from ``token_for``
    (default: the configured function)."""
    if not project_id:
        raise OwnerAuthError('the cluster has no recorded project')
    if _same_project(context, project_id) and getattr(
            context, 'auth_token', None):
        return context
    LOG.info('Acting in project %s, the owner of the resource, for a '
             'request of project %s', project_id,
             getattr(context, 'project_id', None))
    token_for = token_for or configured_token_function()
    try:
        token = token_for(project_id)
    except OwnerAuthError:
        raise
    except Exception as exc:
        raise OwnerAuthError('no token of project %s: %s'
                             % (project_id, type(exc).__name__)) from None
    return OwnerContext(project_id=project_id, auth_token=token)


def cluster_project(cluster_id: str) -> str:
    """The project that owns ``cluster_id`` (recorded by Trove at
    create)."""
    from trove.cluster.models import DBCluster
    return DBCluster.find_by(id=cluster_id).tenant_id


def context_for_cluster(context: Any, cluster_id: str) -> Any:
    """``owner_context`` for the project that owns ``cluster_id``."""
    return owner_context(context, cluster_project(cluster_id))


def context_for_instance(context: Any, instance_id: str) -> Any:
    """``owner_context`` for the project of a single instance (its row
    stays, marked deleted, after Trove deletes it)."""
    from trove.instance.models import DBInstance
    return owner_context(context, DBInstance.find_by(id=instance_id).tenant_id)
