"""The rig answers the stock ``openstack`` CLI like a Trove deployment."""

from __future__ import annotations

import pytest

from tests.rig import config

pytestmark = pytest.mark.rig


def test_datastore_list_shows_k2hdkc(trove_rig):
    names = [d['Name'] for d in trove_rig.openstack('datastore', 'list')]
    assert 'k2hdkc' in names


def test_datastore_versions_registered_as_operator_would(trove_rig):
    versions = trove_rig.openstack('datastore', 'version', 'list',
                                   'k2hdkc')
    names = {v['Name'] for v in versions}
    assert {trove_rig.info['datastore_version'],
            config.SELFTEST_VERSION} <= names
    shown = trove_rig.openstack('datastore', 'show', 'k2hdkc')
    default = shown.get('default_version') or shown.get('Default Version')
    by_name = {v['Name']: v['ID'] for v in versions}
    wanted = trove_rig.info['datastore_version']
    assert default in (wanted, by_name[wanted])


def test_flavors_come_from_rig_nova(trove_rig):
    flavors = trove_rig.openstack('database', 'flavor', 'list')
    assert {f['Name'] for f in flavors} == {f['name']
                                            for f in config.FLAVORS}
