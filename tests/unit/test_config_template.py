"""The config.template Trove renders for every K2HDKC instance."""

from __future__ import annotations

import configparser
from unittest import mock

from trove.common import cfg
from trove.common import template
from trove.common import utils

from tests.conftest import REPO_ROOT

TEMPLATES = REPO_ROOT / 'etc' / 'trove' / 'templates'


def test_trove_finds_and_renders_the_k2hdkc_template(monkeypatch):
    # Trove's own Jinja environment with CONF.template_path pointing where
    # devstack installs etc/trove/templates (/etc/trove/templates).
    cfg.CONF.set_override('template_path', str(TEMPLATES))
    try:
        monkeypatch.setattr(template, 'ENV', utils.build_jinja_environment())
    finally:
        cfg.CONF.clear_override('template_path')
    version = mock.Mock(datastore_name='k2hdkc', manager='k2hdkc',
                        version='1.0.16')
    version.name = '1.0.16'
    rendered = template.SingleInstanceConfigTemplate(
        version, {'ram': 2048}, 'f1e2d3c4-0000-4000-8000-000000000001'
    ).render()
    parser = configparser.ConfigParser()
    parser.read_string(rendered)
    assert parser['node']['datastore_version'] == '1.0.16'
    assert parser['node']['flavor_ram_mb'] == '2048'
    assert int(parser['node']['server_id']) > 0
