"""Settings dataclasses and the [k2hdkc] factories."""

from __future__ import annotations

import pytest

from trove_k2hdkc.k2hr3 import errors
from trove_k2hdkc.k2hr3 import settings
from trove_k2hdkc.k2hr3.transport import ClientSettings


def test_client_settings_from_conf(conf, tmp_path):
    conf.set_override('k2hr3_api_url', 'https://k2hr3.example:18080',
                      group='k2hdkc')
    assert settings.client_settings_from_conf(conf).verify is True
    ca = str(tmp_path / 'ca.pem')
    conf.set_override('k2hr3_ca_file', ca, group='k2hdkc')
    conf.set_override('k2hr3_retries', 5, group='k2hdkc')
    got = settings.client_settings_from_conf(conf)
    assert (got.verify, got.retries, got.timeout, got.backoff) == (
        ca, 5, 10.0, 0.5)
    conf.set_override('k2hr3_insecure', True, group='k2hdkc')
    assert settings.client_settings_from_conf(conf).verify is False


def test_client_settings_need_url(conf):
    with pytest.raises(errors.K2hr3ValueError):
        settings.client_settings_from_conf(conf)
    with pytest.raises(errors.K2hr3ValueError):
        ClientSettings(base_url='ftp://x')


def test_cluster_settings_from_conf(conf):
    conf.set_override('chmpx_server_port', 9020, group='k2hdkc')
    conf.set_override('chmpx_server_ctlport', 9030, group='k2hdkc')
    conf.set_override('mount_point', '/srv/data', group='k2hdkc')
    got = settings.cluster_settings_from_conf(conf)
    assert got.server_port == 9020 and got.server_ctlport_offset == 10
    assert got.k2hfile == '/srv/data/k2hdkc/k2hdkc.k2h'
    assert got.max_chmpx == 256 and got.replica == 1


@pytest.mark.parametrize('kwargs', [
    {'server_port': 8020, 'server_ctlport': 8020},
    {'max_chmpx': 10, 'max_members': 64},
    {'replica': 64, 'max_members': 64},
    {'k2hfile': 'relative/file'},
    {'k2hfile': '/a/../b'},
    {'k2hfile': '/a b'},
    {'mask_bits': 1},
    {'max_mq_client': 0},
    {'server_port': True},
    # chmpx keeps ports in a signed short and caps its queues
    {'server_port': 32768},
    {'slave_ctlport': 40000},
    {'max_mq_server': 129},
    {'max_q_per_client_mq': 129},
    {'max_mq_client': 32641},
    {'cmask_bits': 29},
])
def test_cluster_settings_reject(kwargs):
    with pytest.raises(errors.K2hr3ValueError):
        settings.ClusterSettings(**kwargs)


def test_plain_http_k2hr3_is_refused_by_default(conf):
    """Every request carries a Keystone or role token: over http only
    when the operator says so, and the refusal names the option."""
    conf.set_override('k2hr3_api_url', 'http://k2hr3.example:18080',
                      group='k2hdkc')
    with pytest.raises(errors.K2hr3ValueError,
                       match=r'\[k2hdkc\] k2hr3_allow_insecure_http'):
        settings.client_settings_from_conf(conf)
    with pytest.raises(errors.K2hr3ValueError,
                       match='k2hr3_allow_insecure_http'):
        settings.guest_api_url_from_conf(conf)
    with pytest.raises(errors.K2hr3ValueError,
                       match='k2hr3_allow_insecure_http'):
        ClientSettings(base_url='http://k2hr3.example:18080')


def test_plain_http_k2hr3_with_the_option(conf):
    conf.set_override('k2hr3_api_url', 'http://k2hr3.example:18080',
                      group='k2hdkc')
    conf.set_override('k2hr3_allow_insecure_http', True, group='k2hdkc')
    got = settings.client_settings_from_conf(conf)
    assert (got.base_url, got.allow_http) == ('http://k2hr3.example:18080',
                                              True)
    assert settings.guest_api_url_from_conf(conf) == got.base_url


def test_guest_url_is_checked_on_its_own(conf):
    """An https controller URL does not let an http guest URL through;
    https is never affected by the option."""
    conf.set_override('k2hr3_api_url', 'https://k2hr3.example:18080',
                      group='k2hdkc')
    conf.set_override('k2hr3_guest_api_url', 'http://10.0.0.1:18080',
                      group='k2hdkc')
    assert settings.client_settings_from_conf(conf).allow_http is False
    with pytest.raises(errors.K2hr3ValueError,
                       match='k2hr3_allow_insecure_http'):
        settings.guest_api_url_from_conf(conf)
    conf.set_override('k2hr3_guest_api_url', 'https://10.0.0.1:18080',
                      group='k2hdkc')
    assert (settings.guest_api_url_from_conf(conf)
            == 'https://10.0.0.1:18080')
