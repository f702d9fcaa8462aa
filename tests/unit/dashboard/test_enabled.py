"""The plugin's Horizon enabled file against the installed trove-dashboard.

Horizon loads the enabled file the way its settings do; the assertions are
on trove-dashboard's own code paths: the panel registry, db_capability,
the cluster tables' grow/shrink actions, the launch and add-member forms
and the overview tab's template choice (doc/dashboard.md §1, §3, §4).
"""

from __future__ import annotations

import os
import types
from unittest import mock

import pytest

pytest.importorskip('trove_dashboard', reason='trove-dashboard not installed '
                    '(test-requirements.txt installs it)')

from trove_k2hdkc.dashboard import capability  # noqa: E402
from trove_k2hdkc.dashboard import enabled as k2hdkc_enabled  # noqa: E402

SETTINGS = 'tests.unit.dashboard.horizon_settings'


@pytest.fixture(scope='module')
def django_ready():
    os.environ['DJANGO_SETTINGS_MODULE'] = SETTINGS
    import django
    django.setup()
    return django


def _config(modules):
    from openstack_dashboard.utils import settings as settings_utils
    horizon_config: dict = {}
    apps: list = []
    settings_utils.update_dashboards(modules, horizon_config, apps)
    return horizon_config, apps


def _panels(horizon_config):
    return {c.get('PANEL'): c for c in horizon_config['panel_customization']}


def test_trove_dashboard_alone_leaves_the_clusters_panel_out():
    from trove_dashboard import enabled as trove_enabled
    config, _apps = _config([trove_enabled])
    assert 'database_clusters' not in _panels(config)


def test_enabled_file_adds_the_clusters_panel_and_the_app():
    from trove_dashboard import enabled as trove_enabled
    config, apps = _config([trove_enabled, k2hdkc_enabled])
    panel = _panels(config)['database_clusters']
    assert panel['PANEL_DASHBOARD'] == 'project'
    assert panel['PANEL_GROUP'] == 'database'
    assert panel['ADD_PANEL'].endswith('database_clusters.panel.Clusters')
    assert 'trove_k2hdkc.dashboard' in apps
    assert 'trove_dashboard' in apps


def test_clusters_panel_is_registered_in_horizon(django_ready):
    from django.urls import reverse
    import horizon
    reverse('horizon:project:database_clusters:index')
    project = horizon.get_dashboard('project')
    assert project.get_panel('database_clusters').name == 'Clusters'


def test_k2hdkc_can_launch_grow_and_shrink_clusters(django_ready):
    from trove_dashboard.content.databases import db_capability
    for name in ('k2hdkc', 'K2HDKC'):
        assert db_capability.is_cluster_capable_datastore(name)
        assert db_capability.can_modify_cluster(name)
    # nothing else became cluster-capable
    assert not db_capability.is_cluster_capable_datastore('mysql')
    assert not db_capability.can_modify_cluster('vertica')


def test_enable_is_what_adds_k2hdkc_and_only_once(django_ready):
    from trove_dashboard.content.databases import db_capability
    saved = {n: getattr(db_capability, n) for n in capability.TUPLES}
    try:
        for name, value in saved.items():
            setattr(db_capability, name,
                    tuple(d for d in value if d != 'k2hdkc'))
        assert not db_capability.is_cluster_capable_datastore('k2hdkc')
        capability.enable()
        capability.enable()
        for name in capability.TUPLES:
            assert getattr(db_capability, name).count('k2hdkc') == 1
    finally:
        for name, value in saved.items():
            setattr(db_capability, name, value)


def test_enable_says_what_broke_when_trove_dashboard_changes(django_ready):
    from trove_dashboard.content.databases import db_capability
    with mock.patch.object(db_capability, '_cluster_capable_datastores',
                           ['k2hdkc']):
        with pytest.raises(RuntimeError, match='_cluster_capable_datastores'):
            capability.enable()


def _cluster(datastore, instances=(), task='NONE'):
    return types.SimpleNamespace(
        id='c1', name='ring', datastore={'type': datastore,
                                         'version': '1.0.16'},
        task={'name': task}, instances=list(instances), num_instances=3,
        full_flavor=types.SimpleNamespace(ram=512), locality=None, ip=[])


@pytest.mark.parametrize('action', ['ClusterGrow', 'ClusterShrink'])
def test_grow_and_shrink_buttons_offered_for_k2hdkc(django_ready, action):
    from trove_dashboard.content.database_clusters import tables
    button = getattr(tables, action)()
    assert button.allowed(None, _cluster('k2hdkc'))
    assert not button.allowed(None, _cluster('k2hdkc', task='BUILDING'))
    assert not button.allowed(None, _cluster('vertica'))


def _request(django_ready):
    from django.test import RequestFactory
    request = RequestFactory().get('/project/database_clusters/launch')
    request.user = types.SimpleNamespace(tenant_id='p1', is_superuser=False,
                                         token=types.SimpleNamespace(id='t'))
    request.session = {}
    return request


class _Version(types.SimpleNamespace):
    def to_dict(self):
        return {'active': True}


def _flavor(fid, name, ram):
    return types.SimpleNamespace(id=fid, name=name, ram=ram, vcpus=1,
                                 disk=1)


def _launch_form(django_ready):
    from trove_dashboard.content.database_clusters import forms
    datastores = [types.SimpleNamespace(name='k2hdkc'),
                  types.SimpleNamespace(name='mariadb'),
                  types.SimpleNamespace(name='mysql')]
    trove = 'trove_dashboard.api.trove.'
    with mock.patch(trove + 'datastore_list', return_value=datastores), \
            mock.patch(trove + 'datastore_version_list',
                       side_effect=lambda r, ds: [_Version(name='1.0')]), \
            mock.patch(trove + 'datastore_flavors',
                       return_value=[_flavor('1', 'm1.small', 512)]), \
            mock.patch(trove + 'configuration_list', return_value=[]), \
            mock.patch('openstack_dashboard.api.base.is_service_enabled',
                       return_value=False):
        return forms.LaunchForm(_request(django_ready))


def _choice(form, datastore):
    for value, text in form.fields['datastore'].choices:
        if text.startswith(datastore + ' - '):
            return value
    raise AssertionError('%s not offered: %s'
                         % (datastore, form.fields['datastore'].choices))


def test_launch_form_offers_k2hdkc_with_a_member_count(django_ready):
    form = _launch_form(django_ready)
    k2hdkc = _choice(form, 'k2hdkc')
    # flavor field of the k2hdkc version, shown when it is chosen
    assert form.fields[k2hdkc].choices == [('1', 'm1.small')]
    count = form.fields['num_instances']
    assert count.widget.attrs['data-datastore-' + k2hdkc] == \
        'Number of Members'
    assert count.initial == 3
    assert 'volume' in form.fields and 'network' in form.fields
    # mysql is still not a cluster datastore
    assert not any(t.startswith('mysql')
                   for _v, t in form.fields['datastore'].choices)


def test_launch_form_hides_configuration_groups_for_k2hdkc_only(
        django_ready):
    form = _launch_form(django_ready)
    attrs = form.fields['configuration'].widget.attrs
    assert 'switched' in attrs['class']
    assert attrs['data-switch-on'] == 'datastore'
    assert 'data-datastore-' + _choice(form, 'k2hdkc') not in attrs
    assert attrs['data-datastore-' + _choice(form, 'mariadb')] == \
        'Configuration Group'


def _add_member_form(django_ready, datastore):
    from trove_dashboard.content.database_clusters import forms
    trove = 'trove_dashboard.api.trove.'
    with mock.patch(trove + 'cluster_get',
                    return_value=_cluster(datastore)), \
            mock.patch(trove + 'datastore_flavors',
                       return_value=[_flavor('1', 'm1.small', 512)]), \
            mock.patch(trove + 'configuration_list', return_value=[]), \
            mock.patch('openstack_dashboard.api.base.is_service_enabled',
                       return_value=False):
        return forms.ClusterAddInstanceForm(
            _request(django_ready), initial={'cluster_id': 'c1'})


def test_add_member_form_for_k2hdkc_has_no_type_or_relation(django_ready):
    fields = _add_member_form(django_ready, 'k2hdkc').fields
    for name in ('type', 'related_to', 'configuration'):
        assert name not in fields
    for name in ('flavor', 'volume', 'network', 'name'):
        assert name in fields


def test_add_member_form_of_other_datastores_is_unchanged(django_ready):
    fields = _add_member_form(django_ready, 'mongodb').fields
    for name in ('type', 'related_to', 'configuration'):
        assert name in fields


def test_overview_tab_shows_each_members_ring_state(django_ready):
    from django.template.loader import render_to_string
    from trove_dashboard.content.database_clusters import tabs
    members = [
        {'id': 'm1', 'name': 'ring-member-1', 'status': 'ACTIVE',
         'ring_state': {'code': '0x21',
                        'status': '[SERVICE IN][UP][NOTHING][NOACT]'
                                  '[NoSuspend]'}},
        {'id': 'm2', 'name': 'ring-member-2', 'status': 'BUILD',
         'ring_state': {'code': None,
                        'status': 'not asked: the member is still being '
                                  'built'}},
    ]
    cluster = _cluster('k2hdkc', members)
    tab = tabs.OverviewTab(types.SimpleNamespace(kwargs={'cluster': cluster}))
    name = tab.get_template_name(None)
    assert name == 'project/database_clusters/_detail_overview_k2hdkc.html'
    html = render_to_string(name, {'cluster': cluster})
    assert '<tr data-member="m1">' in html
    assert '0x21' in html and '[SERVICE IN][UP]' in html
    assert 'still being built' in html
    # the base overview (name, datastore) is still there
    assert 'ring' in html and 'k2hdkc' in html
