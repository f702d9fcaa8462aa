"""The rig's Trove uses the rig's real Swift when Swift is installed,
and a stand-in that says why not otherwise; each token reaches only its
project's account."""

from __future__ import annotations

import pathlib

from tests.rig import config


def _info(tmp_path: pathlib.Path, with_swift: bool) -> dict:
    info = config.build_info(config.RigSettings(state_dir=tmp_path), False)
    if not with_swift:
        info['swift'] = None
    return info


def test_trove_conf_points_trove_at_the_rig_swift(tmp_path):
    info = _info(tmp_path, True)
    assert info['swift'], 'swift is in test-requirements.txt'
    assert info['swift']['url_prefix'].startswith(
        'http://%s:' % info['network']['gateway'])
    text = config.trove_conf(info)
    assert 'swift_url = %s\n' % info['swift']['url_prefix'] in text
    assert ('remote_swift_client = trove.common.clients.swift_client\n'
            in text)


def test_without_swift_the_stand_in_stays(tmp_path):
    text = config.trove_conf(_info(tmp_path, False))
    assert 'swift_url' not in text
    assert 'remote_swift_client = tests.rig.clients.swift_client\n' in text


def test_tokens_reach_their_own_account(tmp_path):
    info = _info(tmp_path, True)
    tokens = config.swift_tokens(info)
    own = 'AUTH_' + info['project_id']
    assert tokens[info['token']] == own
    assert tokens[info['owner_token']] == own
    assert tokens[info['admin_token']] == '*'


def test_with_keystone_swift_asks_keystone(tmp_path):
    """Auth ``keystone``: no fixed token list (the CLI's tokens are new
    at every call); the proxy checks tokens at the rig's Keystone as
    Trove's service user and keystoneauth maps projects to accounts."""
    from tests import swiftlocal
    info = config.build_info(config.RigSettings(
        state_dir=tmp_path, auth='keystone'), True)
    assert config.swift_keystone(_info(tmp_path, True)) is None
    options = config.swift_keystone(info)
    assert options['auth_url'] == info['keystone']['url']
    assert options['username'] == 'trove'
    server = swiftlocal.LocalSwift(tmp_path, tokens={'t': '*'},
                                   ports=dict.fromkeys(swiftlocal.SERVERS, 1),
                                   keystone=options)
    server._configs()
    text = (tmp_path / 'proxy-server.conf').read_text()
    assert ('pipeline = catch_errors proxy-logging authtoken keystoneauth '
            'slo dlo proxy-logging proxy-server\n') in text
    assert 'paste.filter_factory = keystonemiddleware.auth_token:' in text
    assert 'delay_auth_decision = true\n' in text
    assert 'use = egg:swift#keystoneauth\n' in text
    assert 'tests.swiftlocal.token' not in text
