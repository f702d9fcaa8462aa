"""The manager loads through Trove's registry and stays off Docker."""

from __future__ import annotations

import docker
import pytest
from trove.guestagent import dbaas
from trove.guestagent.datastore import manager as trove_manager

from tests.unit.guest.conffix import CONF
from tests.unit.guest.conffix import guest_conf  # noqa: F401
from trove_k2hdkc.guest import errors
from trove_k2hdkc.guest import manager as k2manager
from trove_k2hdkc.guest.runtime.process import ProcessRuntime

EXT = 'trove_k2hdkc.guest.manager.Manager'


@pytest.fixture
def no_docker(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError('docker.from_env must not be called')
    monkeypatch.setattr(docker, 'from_env', boom)


def test_registry_loads_and_instantiates_without_docker(
        guest_conf, no_docker, monkeypatch, tmp_path):  # noqa: F811
    monkeypatch.setattr(k2manager.Manager, 'GUEST_LOG_BASE_DIR',
                        str(tmp_path / 'log'))
    CONF.set_override('datastore_registry_ext', {'k2hdkc': EXT})
    try:
        path = dbaas.datastore_registry()['k2hdkc']
    finally:
        CONF.clear_override('datastore_registry_ext')
    assert path == EXT
    module, _, name = path.rpartition('.')
    cls = getattr(__import__(module, fromlist=[name]), name)
    mgr = cls()
    assert isinstance(mgr, trove_manager.Manager)
    assert isinstance(mgr.app.runtime, ProcessRuntime)
    # Trove's profiler reads every property of the manager.
    for attr in dir(type(mgr)):
        if isinstance(getattr(type(mgr), attr, None), property):
            getattr(mgr, attr)
    assert mgr.docker_client is None
    mgr.app.runtime.close()


def test_docker_runtime_builds_client_lazily(  # noqa: F811
        guest_conf, monkeypatch, tmp_path):  # noqa: F811
    calls = []
    monkeypatch.setattr(docker, 'from_env',
                        lambda: calls.append(1) or object())
    guest_conf('node_runtime', 'docker')
    mgr = k2manager.Manager()
    assert calls == []
    assert mgr.app.runtime.client is mgr.docker_client
    assert calls == [1]


def test_contract_methods_exist_with_keywords(guest_conf):  # noqa: F811
    import inspect
    expected = {
        'configure_node': ['k2hr3_url', 'resource_yrn', 'role_yrn',
                           'role_token'],
        'start_node': [], 'refresh_config': [], 'service_in': [],
        'service_out': ['server', 'ctlport', 'custom_id_seed'],
        'restart_k2hdkc': [], 'merge': [], 'complete_merge': [],
        'abort_merge': [], 'suspend_merge': [], 'resume_merge': [],
        'node_status': [], 'purge_node': [], 'stop_node': [],
        'restart': [], 'stop_db': [], 'cluster_complete': [],
        'upgrade': ['upgrade_info'], 'pre_upgrade': [],
        'start_db_with_conf_changes': ['config_contents', 'ds_version'],
        'get_filesystem_stats': ['fs_path'],
    }
    for name, kwargs in expected.items():
        params = list(inspect.signature(
            getattr(k2manager.Manager, name)).parameters)
        assert params == ['self', 'context'] + kwargs, name


def test_pre_upgrade_carries_nothing(guest_conf, tmp_path,  # noqa: F811
                                     monkeypatch):
    monkeypatch.setattr(k2manager.Manager, 'GUEST_LOG_BASE_DIR',
                        str(tmp_path / 'log'))
    mgr = k2manager.Manager()
    mgr.resume_thread.join(10)
    assert mgr.pre_upgrade(None) == {}
    mgr.app.runtime.close()


def test_configure_node_refuses_plain_http_before_storing(  # noqa: F811
        guest_conf, tmp_path, monkeypatch):  # noqa: F811
    """Without the guest's own k2hr3_allow_insecure_http the access is
    refused before it is stored or any request is sent."""
    monkeypatch.setattr(k2manager.Manager, 'GUEST_LOG_BASE_DIR',
                        str(tmp_path / 'log'))
    guest_conf('k2hr3_allow_insecure_http', False)
    mgr = k2manager.Manager()
    mgr.resume_thread.join(10)
    fetched = []
    mgr.app.fetcher = fetched.append
    try:
        with pytest.raises(errors.GuestNodeError,
                           match='k2hr3_allow_insecure_http'):
            mgr.configure_node(None, k2hr3_url='http://10.0.0.1:18080',
                               resource_yrn='yrn:yahoo:::t:resource:r',
                               role_yrn='yrn:yahoo:::t:role:r',
                               role_token='r0le-t0ken')
        assert fetched == [] and not mgr.app.access_store.exists()
    finally:
        mgr.app.runtime.close()
