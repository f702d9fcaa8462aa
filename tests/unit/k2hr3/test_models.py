"""Pure tests of value types, validation and secret scrubbing."""

from __future__ import annotations

import json
import pathlib

import pytest

from trove_k2hdkc.exceptions import K2hdkcError
from trove_k2hdkc.k2hr3 import errors
from trove_k2hdkc.k2hr3 import models
from trove_k2hdkc.k2hr3 import redact

TOKEN = 'ab' * 32


def test_yrn_round_trip_and_mirror():
    yrn = models.Yrn('tenant0', 'role', 'mydkc/server')
    assert str(yrn) == 'yrn:yahoo:::tenant0:role:mydkc/server'
    assert models.Yrn.parse(str(yrn)) == yrn
    assert str(yrn.mirror('resource')) == (
        'yrn:yahoo:::tenant0:resource:mydkc/server')


@pytest.mark.parametrize('text', [
    'yrn:yahoo:::tenant0:host:x', 'yrn:yahoo::r:tenant0:role:x',
    'yrn:yahoo:::tenant0:role:../etc', 'yrn:yahoo:::tenant0:role:a?b',
    'yrn:yahoo:::Tenant0:role:x', 'role:x', ''])
def test_yrn_rejects(text):
    with pytest.raises(errors.K2hr3ValueError):
        models.Yrn.parse(text)


@pytest.mark.parametrize('name', [
    'a/../b', '../x', 'x/', '/x', 'a b', 'a?b', 'a#b', 'A', 'a%2f', '',
    'a//b', 'x' * 200])
def test_check_name_rejects_path_tricks(name):
    with pytest.raises(errors.K2hr3ValueError):
        models.check_name(name)


def test_errors_are_in_the_plugin_tree():
    for cls in (errors.K2hr3HTTPError, errors.K2hr3ConnectionError,
                errors.K2hr3ValueError, errors.K2hr3ProtocolError):
        assert issubclass(cls, errors.K2hr3Error)
        assert issubclass(cls, K2hdkcError)
    exc = errors.K2hr3HTTPError(404, 'GET', '/v1/x', 'gone')
    assert (exc.status, exc.method, exc.path, exc.message) == (
        404, 'GET', '/v1/x', 'gone')
    assert exc.is_client_error and '404' in str(exc)


@pytest.mark.parametrize('entry,expected', [
    ('127.0.0.1 28020 cuk1 openstack-auto-v1 tag1.example.net',
     models.RoleHost('127.0.0.1', 28020, 'cuk1', 'openstack-auto-v1',
                     'tag1.example.net')),
    # Empty extra dropped by K2HR3 2.0.3: the tag moves up a slot.
    ('dkc-node.example.net * hostname-member-cuk by-name',
     models.RoleHost('dkc-node.example.net', 0, 'hostname-member-cuk', '',
                     'by-name')),
    # A custom extra is hidden (second capture F3): cuk, then tag.
    ('10.251.8.11 * a0000000-0000-4000-8000-000000000001 '
     'a0000000-0000-4000-8000-000000000001',
     models.RoleHost('10.251.8.11', 0, 'a0000000-0000-4000-8000-000000000001',
                     '', 'a0000000-0000-4000-8000-000000000001')),
    ('10.0.0.1 1 c t 10.1.1.1',
     models.RoleHost('10.0.0.1', 1, 'c', '', 't', '10.1.1.1')),
    # No cuk: its slot stays, empty (the server's format, third capture).
    ('10.0.0.1 *  openstack-auto-v1 t',
     models.RoleHost('10.0.0.1', 0, '', 'openstack-auto-v1', 't')),
    ('127.0.0.1 * ', models.RoleHost('127.0.0.1', 0)),
    ('10.0.0.1 1 c k8s-auto-v1 t 10.1.1.1 10.2.2.2',
     models.RoleHost('10.0.0.1', 1, 'c', 'k8s-auto-v1', 't', '10.1.1.1',
                     '10.2.2.2')),
])
def test_role_host_parse(entry, expected):
    assert models.RoleHost.parse(entry) == expected


# Strings read from the real K2HR3 API 2.0.3 (third capture D2, D3) and
# the members they were written from.
REAL_STRINGS = [
    ('10.0.0.3 * ', models.RoleHost('10.0.0.3', 0)),
    ('10.0.0.4 *  t4', models.RoleHost('10.0.0.4', 0, '', '', 't4')),
    ('10.0.0.2 * c3', models.RoleHost('10.0.0.2', 0, 'c3')),
    ('10.0.0.9 -1 c9', models.RoleHost('10.0.0.9', -1, 'c9')),
    ('10.0.0.8 70000 c8', models.RoleHost('10.0.0.8', 70000, 'c8')),
    ('10.0.0.5 8020 c5 openstack-auto-v1  10.1.1.1',
     models.RoleHost('10.0.0.5', 8020, 'c5', 'openstack-auto-v1', '',
                     '10.1.1.1')),
    # extra "custom" is not shown; the empty inbound IP keeps its slot.
    ('10.0.0.6 8020 c6 t6  10.2.2.2',
     models.RoleHost('10.0.0.6', 8020, 'c6', '', 't6', None, '10.2.2.2')),
    ('10.0.0.7 * c7 openstack-auto-v1   10.2.2.2',
     models.RoleHost('10.0.0.7', 0, 'c7', 'openstack-auto-v1', '', None,
                     '10.2.2.2')),
]


@pytest.mark.parametrize('entry,expected', REAL_STRINGS)
def test_role_host_parse_real_strings(entry, expected):
    assert models.RoleHost.parse(entry) == expected


def test_real_strings_are_the_captured_ones():
    data = json.loads((pathlib.Path(__file__).resolve().parents[2] / 'data'
                       / 'k2hr3' / 'third_capture.json').read_text())
    listed = next(e for e in data['exchanges']
                  if e['name'] == 'member_strings')
    assert sorted(e for e, _ in REAL_STRINGS) == sorted(
        listed['body']['role']['hosts']['ips'])


def test_role_host_query_leaves_out_empty_fields():
    # k2hr3client sends the literal "None", which K2HR3 rejects with 400.
    query = models.RoleHost('10.0.0.1', 0, 'cuk', '', 'tag').query()
    assert query == {'host': '10.0.0.1', 'port': '0', 'cuk': 'cuk',
                     'tag': 'tag'}


@pytest.mark.parametrize('host', ['10.0.0.1', '::1'])
def test_check_host_accepts_ips(host):
    assert models.check_host(host) == host


@pytest.mark.parametrize('host', ['a.example', '10.0.0.1&x=1', '', None])
def test_check_host_rejects_non_ips(host):
    with pytest.raises(errors.K2hr3ValueError):
        models.check_host(host)


@pytest.mark.parametrize('value', ['a b', '{{= 1 }}', 'x\ny', '', 'a%b'])
def test_check_field_rejects(value):
    with pytest.raises(errors.K2hr3ValueError):
        models.check_field(value, 'tag')


def test_tokens_hidden_from_repr_and_str():
    role = models.RoleToken(token=TOKEN, registerpath='reg' * 10)
    user = models.UserToken(token=TOKEN, tenant='t')
    for obj in (role, user):
        assert TOKEN not in repr(obj) and TOKEN not in str(obj)
    assert 'reg' * 10 not in repr(role)


def test_parse_expire():
    value = models.parse_expire('2036-11-18T23:55:25.000Z')
    assert value.year == 2036 and value.utcoffset().total_seconds() == 0
    assert models.parse_expire(None) is None
    assert models.parse_expire('nonsense') is None


def test_redactor_masks_known_and_token_shaped_secrets():
    red = redact.Redactor()
    red.add('keystone-secret-1', None, 'short')
    text = ('token(%s) is not existed; keystone-secret-1; token="abc123"; '
            '/v1/role/token/xyz?a=1; /v1/role/token/list/k2hdkc-x; '
            'short' % TOKEN)
    out = red.scrub(text)
    assert TOKEN not in out and 'keystone-secret-1' not in out
    assert 'abc123' not in out and '/v1/role/token/xyz' not in out
    assert '/v1/role/token/list/k2hdkc-x' in out
    # Too short to be a secret: not masked (would mangle normal text).
    assert out.endswith('short')


def test_redactor_masks_bare_hex_token():
    assert TOKEN not in redact.scrub_generic('x %s y' % TOKEN)
