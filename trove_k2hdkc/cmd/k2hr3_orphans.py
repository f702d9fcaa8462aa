"""``trove-k2hdkc-orphans``: list (``--delete``: remove) the K2HR3 objects
of this product that no Trove cluster or instance owns.

Run where Trove's control plane runs, with its configuration (default
``/etc/trove/trove.conf``; ``--config-file`` as for any Trove service):
owners are read from Trove's database (``[database] connection``), K2HR3
is reached as the taskmanager reaches it (``[k2hdkc]``). K2HR3 shows the
tenants of the Keystone token's user: the token in ``OS_TOKEN`` if set,
else one of Trove's service user (``[service_credentials]``), which is
the user the taskmanager acts as in other projects
(doc/k2hr3-layout.md §5, §6).

Exit status: 0 when the listing (and every removal) succeeded, 1 when a
removal left objects, 2 when nothing could be looked at.
"""

from __future__ import annotations

from collections.abc import Sequence
import os
import sys
from typing import Any
from typing import TextIO

from oslo_config import cfg

from trove_k2hdkc import conf as k2hdkc_conf
from trove_k2hdkc import k2hr3
from trove_k2hdkc.k2hr3 import orphans

CLI_OPTS = [
    cfg.BoolOpt('delete', default=False,
                help='Remove every orphan listed (its role tokens, members, '
                     'roles, policy and resources) and check that nothing '
                     'is left.'),
]


def owned_ids() -> set[tuple[str, str]]:
    """(project id, id) of every live Trove cluster and instance, both
    lower-cased (K2HR3 object names use the lower-cased id)."""
    from trove.cluster.models import DBCluster
    from trove.instance.models import DBInstance
    owned = set()
    for model in (DBCluster, DBInstance):
        for row in model.find_all(deleted=False).all():
            owned.add((str(row.tenant_id).lower(), str(row.id).lower()))
    return owned


def keystone_token() -> str:
    token = os.environ.get('OS_TOKEN')
    if token:
        return token
    from trove.common import clients_admin
    return clients_admin.get_keystone_session().get_token()


def run(client: k2hr3.K2hr3Client, token: str,
        owned: set[tuple[str, str]], delete: bool,
        out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """List (and remove) the orphans of every tenant; the exit status."""
    def is_owned(tenant_id: str, owner_id: str) -> bool:
        return (tenant_id.lower(), owner_id) in owned

    status, found, scanned = 0, 0, 0
    try:
        tenants = list(orphans.tenants(client, token))
    except k2hr3.K2hr3Error as exc:
        print('error: could not log in to K2HR3: %s' % exc, file=err)
        return 2
    for tenant in tenants:
        try:
            listed = orphans.find(client, tenant, is_owned)
        except k2hr3.K2hr3Error as exc:
            print('error: tenant %s (project %s) could not be listed: %s'
                  % (tenant.name, tenant.id, exc), file=err)
            status = 2
            continue
        scanned += 1
        for orphan in listed:
            found += 1
            print('ORPHAN   tenant %s (project %s) k2hdkc-%s: %s'
                  % (tenant.name, tenant.id, orphan.owner_id,
                     ', '.join(orphan.objects)), file=out)
            if not delete:
                continue
            try:
                orphans.remove(client, tenant, orphan)
            except k2hr3.K2hr3Error as exc:
                print('FAILED   tenant %s k2hdkc-%s: %s'
                      % (tenant.name, orphan.owner_id, exc), file=out)
                status = max(status, 1)
            else:
                print('DELETED  tenant %s k2hdkc-%s'
                      % (tenant.name, orphan.owner_id), file=out)
    print('%d orphan(s) in %d of %d tenant(s) scanned%s'
          % (found, scanned, len(tenants),
             '' if delete or not found else '; --delete removes them'),
          file=out)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    from trove.common import cfg as trove_cfg
    from trove.db import get_db_api

    conf: Any = trove_cfg.CONF
    k2hdkc_conf.register(conf)
    conf.register_cli_opts(CLI_OPTS)
    conf(list(sys.argv[1:] if argv is None else argv), project='trove',
         prog='trove-k2hdkc-orphans')
    try:
        get_db_api().configure_db()
        owned = owned_ids()
    except Exception as exc:
        print('error: could not read Trove\'s database ([database] '
              'connection): %s: %s' % (type(exc).__name__, exc),
              file=sys.stderr)
        return 2
    try:
        client = k2hr3.client_from_conf(conf)
    except k2hr3.K2hr3Error as exc:
        print('error: K2HR3 is not usable as configured: %s' % exc,
              file=sys.stderr)
        return 2
    try:
        token = keystone_token()
    except Exception as exc:
        print('error: no Keystone token (set OS_TOKEN or '
              '[service_credentials]): %s' % type(exc).__name__,
              file=sys.stderr)
        return 2
    with client:
        return run(client, token, owned, conf.delete)


if __name__ == '__main__':
    sys.exit(main())
