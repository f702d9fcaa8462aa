"""An admin of another project deletes a user's cluster: the taskmanager
tears the K2HR3 objects down in the owner's tenant (doc/k2hr3-layout.md
§5), so none remain, and the cluster is gone only then."""

from __future__ import annotations

import pytest

from tests.rig import cli
from tests.rig import cluster

pytestmark = pytest.mark.rig


def test_admin_of_another_project_deletes_a_users_cluster(trove_rig):
    info = trove_rig.info
    cid = cluster.create(info, 'owned', 1)['id']
    cluster.wait_active(info, cid)
    assert cluster.k2hr3_objects(info, cid), 'no K2HR3 objects created'

    cli.openstack(info, 'database', 'cluster', 'delete', cid, parse=False,
                  as_other_admin=True)
    cluster.wait_gone(info, cid)
    assert cluster.k2hr3_objects(info, cid) == []
