"""Factories named by trove.conf ``remote_*_client`` in the rig.

Trove calls ``import_class(CONF.remote_nova_client)(context, region_name,
password)`` and the like; these functions accept that signature and return
the rig's look-alikes, which share state through the rig state dir.
"""

from __future__ import annotations

from typing import Any

from tests.rig import network
from tests.rig import nova
from tests.rig import state
from tests.rig import storage


def nova_client(context: Any = None, region_name: str | None = None,
                password: str | None = None, **_: Any) -> nova.Client:
    return nova.Client()


def neutron_client(context: Any = None, region_name: str | None = None,
                   **_: Any) -> network.Client:
    return network.Client()


def cinder_client(context: Any = None, region_name: str | None = None,
                  **_: Any) -> storage.CinderClient:
    return storage.CinderClient()


def glance_client(context: Any = None, region_name: str | None = None,
                  **_: Any) -> storage.GlanceClient:
    return storage.GlanceClient()


def swift_client(context: Any = None, region_name: str | None = None,
                 **_: Any) -> storage.SwiftClient:
    return storage.SwiftClient()


def owner_token(project_id: str) -> str:
    """``[k2hdkc] k2hr3_owner_token_function`` in the rig: the Keystone
    token of Trove's service user in the rig project, as Keystone would
    issue it with ``[service_credentials]`` (the rig has no Keystone; the
    K2HR3 stand-in knows this token)."""
    info = state.rig_info()
    if project_id != info['project_id']:
        raise LookupError('the rig knows no project %s' % project_id)
    return info['owner_token']
