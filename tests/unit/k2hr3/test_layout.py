"""Layout planning with a recording client (no HTTP)."""

from __future__ import annotations

import datetime

import pytest

from trove_k2hdkc.k2hr3 import errors
from trove_k2hdkc.k2hr3 import layout
from trove_k2hdkc.k2hr3 import models
from trove_k2hdkc.k2hr3 import template
from trove_k2hdkc.k2hr3.settings import ClusterSettings

CID = '6f1c2a4e-0b1d-4c55-9a53-6d1f0e2b7a01'
NOW = datetime.datetime(2026, 11, 22, tzinfo=datetime.UTC)


class Recorder:
    """Stands in for K2hr3Client: records calls, serves canned reads."""

    def __init__(self, tokens=None, hosts=None):
        self.calls = []
        self.tokens = tokens or {}
        self.hosts = hosts or {}

    def __getattr__(self, name):
        def call(*args, **kwargs):
            self.calls.append((name, args[1:], kwargs))
            if name == 'list_role_tokens':
                return list(self.tokens.get(args[1], ()))
            if name == 'get_role':
                return models.RoleInfo((), (), tuple(
                    self.hosts.get(args[1], ())))
            if name == 'issue_role_token':
                return models.RoleToken(token='new-' + args[1])
            return None
        return call

    def names(self):
        return [(c[0], c[1][0] if c[1] else None) for c in self.calls]


def make(rec, **settings):
    token = models.UserToken(token='u' * 64, tenant='tenant0')
    return layout.ClusterK2hr3(rec, token, CID.upper(),
                               ClusterSettings(**settings),
                               now=lambda: NOW)


@pytest.mark.parametrize('bad', [
    'mycluster', CID + 'x', CID.replace('-', ''), '../' + CID, '', None,
    CID + '/server'])
def test_cluster_id_must_be_a_uuid(bad):
    with pytest.raises(errors.K2hr3ValueError):
        layout.ClusterNames('tenant0', bad)


def test_names_only_from_cluster_id():
    names = layout.ClusterNames('tenant0', CID.upper())
    assert names.name == 'k2hdkc-' + CID
    assert names.child('server') == 'k2hdkc-%s/server' % CID
    assert str(names.role_yrn('slave')) == (
        'yrn:yahoo:::tenant0:role:k2hdkc-%s/slave' % CID)
    assert str(names.resource_yrn('server')) == (
        'yrn:yahoo:::tenant0:resource:k2hdkc-%s/server' % CID)
    with pytest.raises(errors.K2hr3ValueError):
        names.child('admin')


def test_provision_order_and_content():
    rec = Recorder()
    tokens = make(rec, role_token_lifetime=0).provision()
    n = 'k2hdkc-' + CID
    assert rec.names() == [
        ('put_resource', n), ('put_resource', n + '/server'),
        ('put_resource', n + '/slave'), ('put_policy', n),
        ('put_role', n), ('put_role', n + '/server'),
        ('put_role', n + '/slave'),
        ('list_role_tokens', n + '/server'),
        ('issue_role_token', n + '/server'),
        ('list_role_tokens', n + '/slave'),
        ('issue_role_token', n + '/slave')]
    parent = rec.calls[0]
    assert parent[2]['data'] == template.resource_data('tenant0', n)
    keys = parent[2]['keys']
    assert keys['cluster-name'] == n and keys['chmpx-replica'] == 1
    assert keys['chmpx-server-ctlport-offset'] == 1
    assert rec.calls[1][2]['keys']['chmpx-mode'] == 'SERVER'
    assert rec.calls[2][2]['keys']['chmpx-mode'] == 'SLAVE'
    policy_resources = [str(y) for y in rec.calls[3][1][1]]
    assert policy_resources == [
        'yrn:yahoo:::tenant0:resource:%s/server' % n,
        'yrn:yahoo:::tenant0:resource:%s/slave' % n]
    assert [str(p) for p in rec.calls[4][2]['policies']] == [
        'yrn:yahoo:::tenant0:policy:' + n]
    assert rec.calls[8][2] == {'expire': 0}
    assert tokens.server.token == 'new-%s/server' % n


def test_ensure_tokens_reuses_live_unbound_token():
    n = 'k2hdkc-' + CID
    year = datetime.timedelta(days=365)
    tokens = {n + '/server': [
        models.RoleToken('old', expire=NOW + datetime.timedelta(hours=1)),
        models.RoleToken('bound', expire=NOW + 9 * year, ip='10.0.0.1'),
        models.RoleToken('good', expire=NOW + year),
        models.RoleToken('better', expire=NOW + 2 * year)]}
    rec = Recorder(tokens=tokens)
    got = make(rec).ensure_tokens()
    assert got.server.token == 'better'
    assert got.slave.token == 'new-%s/slave' % n
    assert ('issue_role_token', n + '/server') not in rec.names()


def test_teardown_children_first_and_tokens_last():
    n = 'k2hdkc-' + CID
    host = models.RoleHost('10.0.0.1', 0, 'cuk1', 'x', 't')
    rec = Recorder(tokens={n + '/slave': [models.RoleToken('t-slave')]},
                   hosts={n + '/server': [host]})
    make(rec).teardown()
    got = [c for c in rec.names() if c[0] not in ('list_role_tokens',
                                                    'get_role')]
    assert got == [
        ('remove_role_host', n + '/server'),
        ('delete_role', n + '/server'), ('delete_role', n + '/slave'),
        ('delete_role', n), ('delete_policy', n),
        ('delete_resource', n + '/server'),
        ('delete_resource', n + '/slave'), ('delete_resource', n),
        ('revoke_role_token', models.RoleToken('t-slave'))]
    remove = [c for c in rec.calls if c[0] == 'remove_role_host'][0]
    assert remove[1][1:] == ('10.0.0.1', 0, 'cuk1')


def test_add_member_validates_and_defaults_tag():
    rec = Recorder()
    cluster = make(rec)
    member = cluster.add_member('server', '10.0.0.5', 'inst-1')
    assert member == models.RoleHost('10.0.0.5', 0, 'inst-1',
                                     layout.MEMBER_EXTRA, 'inst-1')
    for bad in (('server', 'host.example', 'c'), ('server', '10.0.0.1',
                                                  'a b'),
                ('admin', '10.0.0.1', 'c')):
        with pytest.raises(errors.K2hr3ValueError):
            cluster.add_member(*bad)
    assert len(rec.calls) == 1


def test_template_has_the_contract():
    text = template.template_source()
    assert text.startswith('{{#!k2hr3template }}\n')
    for line in ('MQACK               = no', 'AUTOMERGE           = off',
                 'DOMERGE             = on', 'K2HINIT             = no',
                 'CHMPXIDTYPE         = CUSTOM',
                 'SELFCUK             = __SELF_INSTANCE_ID__',
                 'MAXCHMPX            = {{= %chmpx-max-chmpx% }}',
                 'REPLICA             = {{= %chmpx-replica% }}',
                 'K2HFILE             = {{= %k2hdkc-k2hfile% }}',
                 "CUSTOM_ID_SEED      = {{= %one_host%{'tag'} }}",
                 'CUK                 = dummy_cuk'):
        assert line in text
    rendered = template.resource_data('tenant0', 'k2hdkc-' + CID)
    assert '@K2HR3_' not in rendered
    assert '%yrn:yahoo:::tenant0:role:k2hdkc-' + CID + '/server/hosts/ip%' \
        in rendered


@pytest.mark.parametrize('tenant', ['local@x', 'a.b', 'a%b', '{{', ''])
def test_template_refuses_unsafe_tenant(tenant):
    with pytest.raises(errors.K2hr3ValueError):
        template.resource_data(tenant, 'k2hdkc-' + CID)
