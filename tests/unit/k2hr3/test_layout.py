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
    """Stands in for K2hr3Client: records calls, serves canned reads.

    Deletes take effect as on the real K2HR3: a deleted role's token list
    is a 404, a deleted policy reads 400 and a deleted resource 404.
    ``refuse`` maps a call name to the HTTP status it fails with;
    ``sticky`` names ``(kind, name)`` whose delete silently does
    nothing.
    """

    def __init__(self, tokens=None, hosts=None, refuse=None, sticky=()):
        self.calls = []
        self.tokens = tokens or {}
        self.hosts = hosts or {}
        self.refuse = refuse or {}
        self.sticky = set(sticky)
        self.gone = set()

    def _fail(self, name, status):
        raise errors.K2hr3HTTPError(status, 'GET', '/v1/' + name, None)

    def __getattr__(self, name):
        def call(*args, **kwargs):
            self.calls.append((name, args[1:], kwargs))
            target = args[1] if len(args) > 1 else None
            if name in self.refuse:
                self._fail(name, self.refuse[name])
            kind = name.split('_', 1)[-1]
            if name.startswith('delete_') and (
                    kind, target) not in self.sticky:
                self.gone.add((kind, target))
            if name == 'list_role_tokens':
                if ('role', target) in self.gone:
                    self._fail(name, 404)
                return list(self.tokens.get(target, ()))
            if name == 'get_role':
                return models.RoleInfo((), (), tuple(
                    self.hosts.get(target, ())))
            if name in ('get_policy', 'get_resource'):
                if (kind, target) in self.gone:
                    self._fail(name, 400 if kind == 'policy' else 404)
                return 'present'
            if name == 'issue_role_token':
                return models.RoleToken(token='new-' + target)
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


def test_teardown_tokens_first_then_children_first():
    n = 'k2hdkc-' + CID
    host = models.RoleHost('10.0.0.1', 0, 'cuk1', '', 't')
    rec = Recorder(tokens={n + '/slave': [models.RoleToken('t-slave')]},
                   hosts={n + '/server': [host]})
    make(rec).teardown()
    got = [c for c in rec.names() if not c[0].startswith(('list_', 'get_'))]
    assert got == [
        ('revoke_role_token', models.RoleToken('t-slave')),
        ('remove_role_host', n + '/server'),
        ('delete_role', n + '/server'), ('delete_role', n + '/slave'),
        ('delete_role', n), ('delete_policy', n),
        ('delete_resource', n + '/server'),
        ('delete_resource', n + '/slave'), ('delete_resource', n)]
    remove = [c for c in rec.calls if c[0] == 'remove_role_host'][0]
    assert remove[1][1:] == ('10.0.0.1', 0, 'cuk1')


@pytest.mark.parametrize('status', [403, 404])
def test_teardown_takes_a_gone_token_as_revoked(status, caplog):
    """Second capture F2: 403 for a token whose role is already deleted
    or that expired."""
    n = 'k2hdkc-' + CID
    rec = Recorder(tokens={n + '/server': [models.RoleToken('t')]},
                   refuse={'revoke_role_token': status})
    make(rec).teardown()
    assert 'refused' not in caplog.text


def test_teardown_names_what_really_remains():
    n = 'k2hdkc-' + CID
    rec = Recorder(tokens={n + '/slave': [models.RoleToken('t')]},
                   sticky={('role', n + '/slave'), ('resource', n)})
    with pytest.raises(errors.K2hr3LeftBehindError) as info:
        make(rec).teardown()
    assert info.value.objects == (
        'role %s/slave (0 members, 1 tokens)' % n, 'resource ' + n)


def test_teardown_goes_on_after_a_refused_delete_and_checks():
    n = 'k2hdkc-' + CID
    rec = Recorder(refuse={'delete_policy': 500})
    with pytest.raises(errors.K2hr3LeftBehindError) as info:
        make(rec).teardown()
    assert info.value.objects == ('policy ' + n,)
    assert ('delete_resource', n) in rec.names()


def test_member_extra_is_the_one_k2hr3_deletes_by_cuk():
    assert layout.MEMBER_EXTRA == 'openstack-auto-v1'
    assert layout.MEMBER_EXTRA in models.SHOWN_EXTRAS


def test_remove_member_checks_it_is_gone():
    n = 'k2hdkc-' + CID
    rec = Recorder()
    make(rec).remove_member('server', '10.0.0.1', 'c1')
    assert [c for c in rec.calls if c[0] == 'remove_role_host'] == [
        ('remove_role_host', (n + '/server', '10.0.0.1', 0, 'c1'), {})]


def test_remove_member_falls_back_for_a_member_k2hr3_keeps():
    """A member registered with another extra survives a DELETE naming
    its cuk (F1); it is removed by address when it is alone there."""
    n = 'k2hdkc-' + CID
    old = models.RoleHost('10.0.0.1', 0, 'c1', '', 'c1')
    rec = Recorder(hosts={n + '/server': [old]})
    with pytest.raises(errors.K2hr3LeftBehindError):
        make(rec).remove_member('server', '10.0.0.1', 'c1')
    removes = [c[1] for c in rec.calls if c[0] == 'remove_role_host']
    assert removes == [(n + '/server', '10.0.0.1', 0, 'c1'),
                       (n + '/server', '10.0.0.1', 0)]
    other = models.RoleHost('10.0.0.1', 0, 'c2', '', 'c2')
    rec = Recorder(hosts={n + '/server': [old, other]})
    with pytest.raises(errors.K2hr3LeftBehindError, match='shares'):
        make(rec).remove_member('server', '10.0.0.1', 'c1')
    assert len([c for c in rec.calls if c[0] == 'remove_role_host']) == 1


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


def test_recorded_settings_read_back_what_parent_keys_wrote():
    names = layout.ClusterNames('tenant0', CID)
    wrote = ClusterSettings(server_port=9020, server_ctlport=9022,
                            slave_ctlport=9031, replica=2, max_chmpx=300,
                            max_members=64, mask_bits=10,
                            k2hfile='/srv/k2hdkc/dkc.k2h',
                            role_token_lifetime=60)
    base = ClusterSettings(role_token_lifetime=3600)
    got = layout.recorded_settings(names, layout.parent_keys(names, wrote),
                                   base)
    for field in layout.RECORDED_KEYS.values():
        assert getattr(got, field) == getattr(wrote, field), field
    # not ring parameters: the token lifetime stays the configuration's,
    # the member bound is what the recorded MAXCHMPX holds
    assert (got.role_token_lifetime, got.max_members) == (3600, 298)


def test_recorded_offset_must_match_the_ports():
    names = layout.ClusterNames('tenant0', CID)
    keys = layout.parent_keys(names, ClusterSettings())
    keys['chmpx-server-ctlport-offset'] = 5
    with pytest.raises(errors.K2hr3ValueError, match='offset'):
        layout.recorded_settings(names, keys, ClusterSettings())
