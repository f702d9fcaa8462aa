"""TEST-ONLY guest manager for the rig's own self-test.

Registered as the ``rig-selftest`` version's registry_ext so the rig can be
proven (RPC ping, prepare -> HEALTHY) before the product's
``trove_k2hdkc.guest.manager.Manager`` exists. Never used by product code.
"""

from __future__ import annotations

from typing import Any

from trove.guestagent.datastore import manager
from trove.guestagent.datastore import service
from trove.instance import service_status


class RigSelfTestStatus(service.BaseDbStatus):
    """Reports HEALTHY once prepared; there is no database to watch."""

    def get_actual_db_status(self) -> Any:
        return service_status.ServiceStatuses.HEALTHY


class RigSelfTestManager(manager.Manager):
    def __init__(self) -> None:
        super().__init__('k2hdkc')
        self.status = RigSelfTestStatus(None)

    @property
    def docker_client(self) -> None:
        # The profiler touches every property; no Docker in the rig.
        return None

    def do_prepare(self, context: Any, packages: Any, databases: Any,
                   memory_mb: Any, users: Any, device_path: Any,
                   mount_point: Any, backup_info: Any,
                   config_contents: Any, root_password: Any,
                   overrides: Any, cluster_config: Any, snapshot: Any,
                   ds_version: Any = None) -> None:
        return None
