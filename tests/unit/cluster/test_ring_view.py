"""``cluster show`` gives each member's own ring state; list asks no one.

Replies are built by the guest's own ``_status_dict`` from parsed chmpx
status lines, so a drift in the guest reply shape shows up here.
"""

from __future__ import annotations

from unittest import mock

import eventlet
import pytest
from trove.common import cfg
from trove.common import exception
from trove.common import wsgi

from trove_k2hdkc import conf as k2hdkc_conf
from trove_k2hdkc.chmpx.status import parse_node_status
from trove_k2hdkc.cluster import api
from trove_k2hdkc.cluster import ringview
from trove_k2hdkc.guest.service import _status_dict

CONF = cfg.CONF

HEALTHY = '0x21(SAFE -> [SERVICE IN][UP][n/a][Nothing][NoSuspend])'
PENDING = '0x1021(SAFE -> [SERVICE IN][UP][n/a][Pending][NoSuspend])'


@pytest.fixture(autouse=True)
def opts():
    k2hdkc_conf.register(CONF)


def reply(line=None, chmpx=True):
    """A node_status reply as the guest sends it."""
    if line is None:
        return {'self': None, 'ring': [],
                'runtime': {'chmpx': chmpx, 'k2hdkc': chmpx}}
    return {'self': {'name': 'n', 'ctlport': 8021, 'cuk': None,
                     'custom_id_seed': 'seed',
                     'status': _status_dict(parse_node_status(line))},
            'ring': [], 'runtime': {'chmpx': True, 'k2hdkc': True}}


class FakeGuest:
    def __init__(self, behaviour):
        self.behaviour = behaviour

    def node_status(self):
        return self.behaviour()


class Guests:
    """Stands in for ``create_guest_client``; records who was asked."""

    def __init__(self, behaviours):
        self.behaviours = behaviours
        self.asked = []

    def __call__(self, context, member, manager):
        self.asked.append((context, member, manager))
        return FakeGuest(self.behaviours[member])


def member(mid):
    inst = mock.Mock(id=mid, type='member', shard_id=None, status='ACTIVE',
                     volume_size=2, flavor_id='7')
    inst.name = mid
    inst.datastore_version.manager = 'k2hdkc'
    inst.get_visible_ip_addresses.return_value = ['10.0.0.%s' % mid[-1]]
    return inst


def fake_cluster(ids):
    c = mock.Mock(id='cid', locality=None, configuration_id=None,
                  tenant_id='p', deleted=False, deleted_at=None)
    c.name = 'c1'
    c.datastore_version.manager = 'k2hdkc'
    c.instances = [member(i) for i in ids]
    c.instances_without_server = [member(i) for i in ids]
    return c


def fake_request():
    req = mock.Mock(host='trove', url_version='1.0')
    req.environ = {wsgi.CONTEXT_KEY: mock.Mock(project_id='p')}
    return req


def show(view_class, cluster, guests, load_servers=True):
    with mock.patch.object(api.clients, 'create_guest_client', guests):
        data = view_class(cluster, fake_request(), load_servers).data()
    return {i['id']: i for i in data['cluster']['instances']}


VIEWS = [api.K2hdkcClusterView, api.K2hdkcMgmtClusterView]


def returns(value):
    return lambda: value


def raises(exc):
    def behaviour():
        raise exc
    return behaviour


@pytest.mark.parametrize('view_class', VIEWS)
def test_show_gives_each_member_its_own_ring_state(view_class):
    cluster = fake_cluster(['m1', 'm2', 'm3', 'm4'])
    guests = Guests({'m1': returns(reply(HEALTHY)),
                     'm2': returns(reply(PENDING)),
                     'm3': returns(reply(None, chmpx=False)),
                     'm4': returns(reply(None, chmpx=True))})
    members = show(view_class, cluster, guests)
    assert {m: i['ring_state'] for m, i in members.items()} == {
        'm1': {'code': '0x21',
               'status': '[SERVICE IN][UP][n/a][Nothing][NoSuspend]'},
        'm2': {'code': '0x1021',
               'status': '[SERVICE IN][UP][n/a][Pending][NoSuspend]'},
        'm3': {'code': None, 'status': 'chmpx not running'},
        'm4': {'code': None, 'status': 'chmpx control port did not answer'},
    }
    assert sorted(member for _, member, _ in guests.asked) == \
        ['m1', 'm2', 'm3', 'm4']
    assert all(ctx is cluster.context and manager == 'k2hdkc'
               for ctx, _, manager in guests.asked)
    # Trove's own member fields are still there.
    assert members['m1']['status'] == 'ACTIVE'


@pytest.mark.parametrize('exc', [exception.GuestTimeout(),
                                 exception.GuestError(original_message='x')])
def test_guest_error_gives_no_answer(exc):
    guests = Guests({'m1': returns(reply(HEALTHY)), 'm2': raises(exc)})
    members = show(api.K2hdkcClusterView, fake_cluster(['m1', 'm2']),
                   guests)
    assert members['m2']['ring_state'] == {
        'code': None, 'status': 'no answer from the guest agent'}
    assert members['m1']['ring_state']['code'] == '0x21'


def test_hung_guest_is_cut_off_by_the_bound(monkeypatch):
    monkeypatch.setattr(ringview, 'RING_STATE_WAIT', 0.05)
    release = eventlet.event.Event()

    def hang():
        release.wait()
        return reply(HEALTHY)

    guests = Guests({'m1': returns(reply(HEALTHY)), 'm2': hang})
    try:
        members = show(api.K2hdkcClusterView, fake_cluster(['m1', 'm2']),
                       guests)
    finally:
        release.send()
    assert members['m2']['ring_state'] == {
        'code': None, 'status': 'no answer from the guest agent'}
    assert members['m1']['ring_state']['code'] == '0x21'


@pytest.mark.parametrize('view_class', VIEWS)
def test_list_makes_no_rpc(view_class):
    guests = Guests({})
    members = show(view_class, fake_cluster(['m1', 'm2']), guests,
                   load_servers=False)
    assert guests.asked == []
    assert set(members) == {'m1', 'm2'}
    assert all('ring_state' not in i for i in members.values())


@pytest.mark.parametrize('bad', [
    None, 'x', {'self': 'x'}, {'self': {'status': {'code': 'zz'}}},
])
def test_unreadable_reply(bad):
    assert ringview.ring_state(bad) == {
        'code': None, 'status': 'unreadable reply from the guest agent'}


def test_code_without_status_text_keeps_the_code():
    state = ringview.ring_state({'self': {'status': {'code': 0x21}}})
    assert state == {'code': '0x21',
                     'status': 'unreadable reply from the guest agent'}


def test_status_text_falls_back_to_chmpx_text():
    status = {'code': 0x21, 'text': HEALTHY}
    assert ringview.ring_state({'self': {'status': status}}) == {
        'code': '0x21',
        'status': '[SERVICE IN][UP][n/a][Nothing][NoSuspend]'}


def test_member_being_built_is_not_asked():
    cluster = fake_cluster(['m1', 'm2'])
    cluster.instances[1].status = 'BUILD'
    guests = Guests({'m1': returns(reply(HEALTHY))})
    members = show(api.K2hdkcClusterView, cluster, guests)
    assert [m for _, m, _ in guests.asked] == ['m1']
    assert members['m2']['ring_state'] == {
        'code': None, 'status': 'not asked: the member is still being built'}
