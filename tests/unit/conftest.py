"""Unit-test fixtures: ``conf``, a private ConfigOpts with the [k2hdkc]
group (for option tests)."""

from __future__ import annotations

from oslo_config import cfg
import pytest

from trove_k2hdkc import conf as k2hdkc_conf


@pytest.fixture
def conf():
    c = cfg.ConfigOpts()
    k2hdkc_conf.register(c)
    c([], project='test')
    yield c
    c.reset()
