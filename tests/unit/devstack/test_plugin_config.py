"""devstack/plugin.sh, install and post-config phases, against the stub of
devstack's function library: what lands in trove.conf and
trove-guestagent.conf, the files it installs, and that a second run
changes nothing."""

from __future__ import annotations

import configparser
import shutil

from oslo_config import cfg

from tests.conftest import REPO_ROOT
from tests.unit.devstack.plugin_run import Devstack
from tests.unit.devstack.plugin_run import named


def ini(path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None,
                                       default_section='-none-')
    parser.read(path)
    return parser


def test_settings_declare_the_dependency_on_trove(tmp_path):
    calls = Devstack(tmp_path).run('stack', 'install')
    assert named(calls, 'plugin_requires') == [['trove-k2hdkc', 'trove']]


def test_install_puts_the_plugin_into_troves_environment(tmp_path):
    calls = Devstack(tmp_path).run('stack', 'install')
    assert named(calls, 'setup_develop') == [[str(REPO_ROOT)]]
    assert not named(calls, 'iniset')


def test_nothing_happens_without_trove(tmp_path):
    host = Devstack(tmp_path, STUB_SERVICES='key,horizon')
    calls = host.run('stack', 'install') + host.run('stack', 'post-config')
    assert not named(calls, 'setup_develop') + named(calls, 'iniset')


def test_trove_conf_gets_registration_taskmanager_and_k2hr3(tmp_path):
    host = Devstack(tmp_path)
    host.run('stack', 'post-config')
    conf = ini(host.trove_conf)
    assert conf['DEFAULT']['config_source'] == 'k2hdkc_options'
    assert conf['k2hdkc_options']['driver'] == 'k2hdkc_options'
    assert (conf['DEFAULT']['taskmanager_manager']
            == 'trove_k2hdkc.taskmanager.Manager')
    assert conf['DEFAULT']['control_exchange'] == 'trove'   # kept
    k2hdkc = conf['k2hdkc']
    assert k2hdkc['k2hr3_api_url'] == 'https://k2hr3.example.net:18080'
    assert k2hdkc['docker_image'] == 'trove-k2hdkc/k2hdkc'
    assert k2hdkc['backup_docker_image'] == 'trove-k2hdkc/db-backup-k2hdkc'
    assert k2hdkc['k2hr3_allow_insecure_http'] == 'False'
    assert 'k2hr3_ca_file' not in k2hdkc     # unset keeps the default


def test_guest_conf_gets_registration_and_images_only(tmp_path):
    host = Devstack(tmp_path, TROVE_K2HDKC_REGISTRY='10.0.0.1:4000',
                    TROVE_K2HDKC_K2HR3_ALLOW_HTTP='true')
    host.run('stack', 'post-config')
    conf = ini(host.guest_conf)
    assert conf['DEFAULT']['config_source'] == 'k2hdkc_options'
    assert conf['k2hdkc_options']['driver'] == 'k2hdkc_options'
    assert dict(conf['k2hdkc']) == {
        'docker_image': '10.0.0.1:4000/trove-k2hdkc/k2hdkc',
        'backup_docker_image': '10.0.0.1:4000/trove-k2hdkc/db-backup-k2hdkc',
        'k2hr3_allow_insecure_http': 'True'}
    assert 'taskmanager_manager' not in conf['DEFAULT']


def test_the_written_trove_conf_registers_k2hdkc_through_oslo_config(
        tmp_path):
    """The plugin's own oslo.config driver (entry point) reads the file."""
    host = Devstack(tmp_path)
    host.run('stack', 'post-config')
    conf = cfg.ConfigOpts()
    conf(args=['--config-file', str(host.trove_conf)], project='trove',
         default_config_files=[], default_config_dirs=[])
    assert conf.k2hdkc.k2hr3_api_url == 'https://k2hr3.example.net:18080'
    assert conf.k2hdkc.docker_image == 'trove-k2hdkc/k2hdkc'


def test_other_config_sources_are_kept(tmp_path):
    host = Devstack(tmp_path)
    host.trove_conf.write_text('[DEFAULT]\nconfig_source = vault\n')
    host.run('stack', 'post-config')
    assert (ini(host.trove_conf)['DEFAULT']['config_source']
            == 'vault,k2hdkc_options')


def test_single_instance_taskmanager_can_be_left_out(tmp_path):
    host = Devstack(tmp_path, TROVE_K2HDKC_TASKMANAGER='False')
    host.run('stack', 'post-config')
    assert (ini(host.trove_conf)['DEFAULT']['taskmanager_manager']
            == 'trove.taskmanager.manager.Manager')


def test_no_k2hr3_url_warns_and_writes_none(tmp_path):
    host = Devstack(tmp_path, TROVE_K2HDKC_K2HR3_API_URL='')
    calls = host.run('stack', 'post-config')
    assert 'k2hr3_api_url' not in ini(host.trove_conf)['k2hdkc']
    [[warning]] = named(calls, 'warn')
    assert 'TROVE_K2HDKC_K2HR3_API_URL' in warning


def test_config_template_and_cloudinit_are_installed(tmp_path):
    host = Devstack(tmp_path)
    host.run('stack', 'post-config')
    template = host.etc / 'templates' / 'k2hdkc' / 'config.template'
    assert template.read_text() == (
        REPO_ROOT / 'etc/trove/templates/k2hdkc/config.template').read_text()
    cloudinit = host.etc / 'cloudinit'
    assert ((cloudinit / 'k2hdkc.cloudinit').read_text()
            == (cloudinit / 'common.cloudinit').read_text())


def test_second_post_config_changes_nothing(tmp_path):
    host = Devstack(tmp_path)
    host.run('stack', 'post-config')
    files = sorted(p for p in host.etc.rglob('*') if p.is_file())
    first = {p: p.read_bytes() for p in files}
    host.run('stack', 'post-config')
    assert sorted(p for p in host.etc.rglob('*') if p.is_file()) == files
    assert {p: p.read_bytes() for p in files} == first


def _plugin_copy(tmp_path):
    """A plugin checkout with a dashboard enabled file."""
    plugin = tmp_path / 'plugin'
    shutil.copytree(REPO_ROOT / 'etc', plugin / 'etc')
    enabled = plugin / 'trove_k2hdkc' / 'dashboard' / 'enabled'
    enabled.mkdir(parents=True)
    (enabled / '_1760_k2hdkc.py').write_text('FEATURE = "k2hdkc"\n')
    return plugin


def test_dashboard_enabled_file_is_installed_with_horizon(tmp_path):
    host = Devstack(tmp_path, plugin_dir=_plugin_copy(tmp_path),
                    STUB_SERVICES='trove,horizon')
    host.run('stack', 'post-config')
    installed = (tmp_path / 'stack' / 'horizon' / 'openstack_dashboard'
                 / 'local' / 'enabled' / '_1760_k2hdkc.py')
    assert installed.read_text() == 'FEATURE = "k2hdkc"\n'


def test_this_checkouts_dashboard_file_is_the_one_installed(tmp_path):
    host = Devstack(tmp_path, STUB_SERVICES='trove,horizon')
    host.run('stack', 'post-config')
    enabled = (tmp_path / 'stack' / 'horizon' / 'openstack_dashboard'
               / 'local' / 'enabled')
    shipped = sorted(p.name for p in (
        REPO_ROOT / 'trove_k2hdkc' / 'dashboard' / 'enabled').glob('_1*.py'))
    assert shipped
    assert sorted(p.name for p in enabled.iterdir()) == shipped


def test_no_dashboard_file_without_horizon(tmp_path):
    host = Devstack(tmp_path, plugin_dir=_plugin_copy(tmp_path))
    host.run('stack', 'post-config')
    assert not (tmp_path / 'stack' / 'horizon').exists()
