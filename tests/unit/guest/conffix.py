"""Trove's CONF with the [k2hdkc] group and guest_id, for guest tests.

``trove.cmd.guest`` registers ``guest_id`` but also monkey-patches the
process with eventlet on import, so tests register the option themselves.
"""

from __future__ import annotations

from oslo_config import cfg as oslo_cfg
import pytest
from trove.common import cfg

from trove_k2hdkc import conf as k2conf

CONF = cfg.CONF


def register() -> None:
    k2conf.register(CONF)
    try:
        CONF.register_opt(oslo_cfg.StrOpt('guest_id'))
    except oslo_cfg.DuplicateOptError:
        pass


@pytest.fixture
def guest_conf(tmp_path):
    """Point the k2hdkc options at ``tmp_path``; undone afterwards."""
    register()
    overrides = []

    def setopt(name, value, group='k2hdkc'):
        CONF.set_override(name, value, group=group)
        overrides.append((name, group))

    setopt('guest_id', '3f0a5e2c-1b7d-4e8a-9c6b-2d4f8a1e7c90', None)
    setopt('node_runtime', 'process')
    setopt('conf_dir', str(tmp_path / 'conf'))
    setopt('data_dir', str(tmp_path / 'data'))
    setopt('mount_point', str(tmp_path))
    setopt('node_start_timeout', 20.0)
    setopt('k2hr3_retries', 0)
    setopt('k2hr3_timeout', 2.0)
    # The K2HR3 stand-ins of these tests listen on plain http.
    setopt('k2hr3_allow_insecure_http', True)
    yield setopt
    for name, group in overrides:
        CONF.clear_override(name, group=group)
