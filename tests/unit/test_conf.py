"""The [k2hdkc] group: what Trove reads from it and how it is published."""

from __future__ import annotations

import pathlib
import subprocess
import sys

from oslo_config import cfg
import pytest
import stevedore

from tests.conftest import REPO_ROOT
from trove_k2hdkc import conf
from trove_k2hdkc.chmpx import _ini_rules

# Every option trove 26 reads from a datastore's group (CONF.get(<manager>)
# or CONF.get(<datastore name>) in its guest, API, task manager, backup and
# cluster code).
TROVE_READS = [
    'database_service_uname', 'database_service_uid', 'database_service_gid',
    'device_path', 'mount_point', 'volume_support', 'tcp_ports', 'udp_ports',
    'replication_strategy', 'replication_namespace', 'root_on_create',
    'backup_strategy', 'backup_docker_image', 'docker_image',
    'cluster_support', 'api_strategy', 'taskmanager_strategy',
    'guestagent_strategy', 'root_controller', 'guest_log_exposed_logs',
    'default_password_length', 'min_cluster_member_count', 'usage_timeout',
    'ignore_users', 'ignore_dbs',
]


@pytest.fixture
def conf_opts() -> cfg.ConfigOpts:
    opts = cfg.ConfigOpts()
    conf.register(opts)
    opts([], project='trove', default_config_files=[])
    return opts


@pytest.mark.parametrize('name', TROVE_READS)
def test_group_defines_every_option_trove_reads(conf_opts, name):
    assert name in conf_opts.k2hdkc


def test_register_twice_is_harmless(conf_opts):
    conf.register(conf_opts)
    assert conf_opts.k2hdkc.chmpx_server_port == 8020


def test_defaults_make_a_cluster_capable_datastore(conf_opts):
    group = conf_opts.k2hdkc
    assert group.cluster_support is True
    assert group.api_strategy == (
        'trove_k2hdkc.cluster.api.K2hdkcAPIStrategy')
    assert group.taskmanager_strategy == (
        'trove_k2hdkc.cluster.taskmanager.K2hdkcTaskManagerStrategy')
    assert group.guestagent_strategy == (
        'trove_k2hdkc.cluster.guestagent.K2hdkcGuestAgentStrategy')
    # The security group must open exactly the CHMPX ports.
    opened = [port for ports in group.tcp_ports for port in ports]
    assert opened == [group.chmpx_server_port, group.chmpx_server_ctlport,
                      group.chmpx_slave_ctlport]
    assert group.k2hr3_insecure is False
    assert group.data_dir == '/var/lib/antpickax/k2hdkc'


def test_node_runtime_rejects_unknown_values(conf_opts):
    with pytest.raises(ValueError, match='docker, process'):
        conf_opts.set_override('node_runtime', 'podman', group='k2hdkc')


def test_every_option_has_help_text():
    for _group, opts in conf.list_opts():
        for opt in opts:
            assert opt.help and len(opt.help) > 15, opt.name


def test_list_opts_is_reachable_through_its_entry_point():
    manager = stevedore.NamedExtensionManager(
        'oslo.config.opts', names=['trove_k2hdkc'], invoke_on_load=True)
    ((group, opts),) = manager['trove_k2hdkc'].obj
    assert group.name == 'k2hdkc'
    assert {opt.name for opt in opts} == {opt.name for opt in conf.ALL_OPTS}


def test_registration_driver_is_reachable_through_its_entry_point():
    manager = stevedore.ExtensionManager('oslo.config.driver',
                                         invoke_on_load=True)
    opts = cfg.ConfigOpts()
    driver = manager['k2hdkc_options'].obj
    assert driver.open_source_from_opt_group(opts, 'k2hdkc_options') is None
    assert 'k2hdkc' in opts


def test_committed_sample_config_is_current(tmp_path):
    out = tmp_path / 'sample.conf'
    subprocess.run(
        [sys.executable, '-m', 'oslo_config.generator', '--config-file',
         str(REPO_ROOT / 'etc/oslo-config-generator/trove-k2hdkc.conf'),
         '--output-file', str(out)], check=True, cwd=REPO_ROOT)
    committed = pathlib.Path(REPO_ROOT / 'etc/trove-k2hdkc.conf.sample')
    assert committed.read_text() == out.read_text(), (
        'run tox -e genconfig and commit etc/trove-k2hdkc.conf.sample')


# Each option that becomes a value of the rendered INI, and its INI key.
INI_VALUES = [
    ('chmpx_server_port', 'GLOBAL', 'PORT'),
    ('chmpx_server_ctlport', 'GLOBAL', 'CTLPORT'),
    ('chmpx_slave_ctlport', 'SLVNODE', 'CTLPORT'),
    ('max_chmpx', 'GLOBAL', 'MAXCHMPX'),
    ('chmpx_max_mq_server', 'GLOBAL', 'MAXMQSERVER'),
    ('chmpx_max_mq_client', 'GLOBAL', 'MAXMQCLIENT'),
    ('chmpx_mq_per_attach', 'GLOBAL', 'MQPERATTACH'),
    ('chmpx_max_q_per_server_mq', 'GLOBAL', 'MAXQPERSERVERMQ'),
    ('chmpx_max_q_per_client_mq', 'GLOBAL', 'MAXQPERCLIENTMQ'),
    ('chmpx_max_mq_per_client', 'GLOBAL', 'MAXMQPERCLIENT'),
    ('k2hash_mask_bits', 'K2HDKC', 'K2HMASKBIT'),
    ('k2hash_cmask_bits', 'K2HDKC', 'K2HCMASKBIT'),
    ('k2hash_max_elements', 'K2HDKC', 'K2HMAXELE'),
    ('k2hash_page_size', 'K2HDKC', 'K2HPAGESIZE'),
]


def _loaded(tmp_path, name, value):
    path = tmp_path / 'trove.conf'
    path.write_text('[k2hdkc]\n%s = %s\n' % (name, value))
    opts = cfg.ConfigOpts()
    conf.register(opts)
    opts(['--config-file', str(path)], project='trove',
         default_config_files=[])
    return getattr(opts.k2hdkc, name)


@pytest.mark.parametrize('name, section, key', INI_VALUES)
def test_options_load_only_what_the_guest_and_chmpx_take(tmp_path, name,
                                                          section, key):
    """A trove.conf value the guest's INI check (chmpx's limits) would
    refuse at create or grow is refused when the option is read."""
    (opt,) = [o for o in conf.ALL_OPTS if o.name == name]
    low, high = opt.type.min, opt.type.max
    assert high is not None, '%s has no maximum' % name
    for value in (low, high):
        assert _loaded(tmp_path, name, value) == value
        assert _ini_rules.value_error(section, key, str(value)) is None
    with pytest.raises(cfg.ConfigFileValueError, match=name):
        _loaded(tmp_path, name, high + 1)


def test_a_chmpx_port_above_a_signed_short_is_refused(tmp_path):
    with pytest.raises(cfg.ConfigFileValueError,
                       match='less than or equal to 32767'):
        _loaded(tmp_path, 'chmpx_server_port', 40000)
    assert _ini_rules.value_error('GLOBAL', 'PORT', '40000')
