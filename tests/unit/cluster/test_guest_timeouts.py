"""A lost guest never holds a step for Trove's 900 s: every stub has its
own bound from ``[k2hdkc]``, and silence is an error naming the member
(doc/guest-rpc.md §1)."""

from __future__ import annotations

from unittest import mock

import oslo_messaging as messaging
import pytest
from trove.common import cfg
from trove.common import exception as trove_exc

from tests.unit.cluster.fakering import FakeFleet
from tests.unit.cluster.fakering import Ring
from trove_k2hdkc import conf as k2hdkc_conf
from trove_k2hdkc.cluster import guestagent
from trove_k2hdkc.cluster.errors import GuestCallError
from trove_k2hdkc.cluster.guestagent import GuestSilent
from trove_k2hdkc.cluster.guestagent import K2hdkcGuestAgentAPI
from trove_k2hdkc.cluster.procedures import Procedures
from trove_k2hdkc.cluster.procedures import Timing

CONF = cfg.CONF

OPTS = {'guest_status_rpc_timeout': 11, 'guest_command_rpc_timeout': 22,
        'guest_config_rpc_timeout': 33, 'guest_node_rpc_timeout': 44,
        'merge_timeout': 100, 'guest_restore_rpc_timeout': 55}
STATUS, COMMAND, CONFIG, NODE, REJOIN, RESTORE = 11, 22, 33, 44, 244, 55
BOUND = {
    'node_status': STATUS, 'prepare_failure': STATUS,
    'service_in': COMMAND, 'service_out': COMMAND, 'merge': COMMAND,
    'complete_merge': COMMAND, 'abort_merge': COMMAND,
    'suspend_merge': COMMAND, 'resume_merge': COMMAND,
    'configure_node': CONFIG, 'refresh_config': CONFIG,
    'purge_finish': CONFIG, 'cluster_complete': CONFIG,
    'pre_upgrade': CONFIG,
    'start_node': NODE, 'stop_node': NODE, 'restart_k2hdkc': NODE,
    'purge_prepare': NODE, 'restart_node': NODE,
    'restart': REJOIN,
    'restore_node': RESTORE,
}


@pytest.fixture
def api():
    """A client built by its real constructor under ``OPTS``, with
    Trove's own waits far above them; ``_call`` below Trove's is
    recorded."""
    k2hdkc_conf.register(CONF)
    for name, value in OPTS.items():
        CONF.set_override(name, value, group='k2hdkc')
    CONF.set_override('usage_timeout', 900, group='k2hdkc')
    CONF.set_override('agent_call_high_timeout', 900)
    CONF.set_override('agent_call_low_timeout', 900)
    try:
        with mock.patch.object(guestagent.guest_api.API, '__init__',
                               lambda self, ctx, id: setattr(self, 'id', id)):
            client = K2hdkcGuestAgentAPI(mock.Mock(), 'inst-7')
        client.agent_low_timeout = client.agent_high_timeout = 900
        with mock.patch.object(guestagent.guest_api.API, '_call') as call:
            yield client, call
    finally:
        for name in [*OPTS, 'usage_timeout']:
            CONF.clear_override(name, group='k2hdkc')
        CONF.clear_override('agent_call_high_timeout')
        CONF.clear_override('agent_call_low_timeout')


@pytest.mark.parametrize('name', sorted(BOUND))
def test_every_stub_waits_its_own_bound(api, name):
    client, call = api
    getattr(client, name)(**{p: 'v' for p in _params(client, name)})
    assert call.call_args.args[:2] == (name, BOUND[name])


@pytest.mark.parametrize('rejoin, bound', [(None, REJOIN), (True, REJOIN),
                                           (False, NODE)])
def test_upgrade_waits_for_the_merge_back_only_when_the_guest_does_it(
        api, rejoin, bound):
    client, call = api
    info = {'datastore_version': '2'}
    if rejoin is not None:
        info['rejoin'] = rejoin
    client.upgrade(upgrade_info=info)
    assert call.call_args.args[:2] == ('upgrade', bound)


def test_every_public_stub_is_bounded_here(api):
    client, _ = api
    stubs = {n for n, fn in vars(K2hdkcGuestAgentAPI).items()
             if callable(fn) and not n.startswith('_')}
    assert stubs == set(BOUND) | {'upgrade'}


def test_a_silent_guest_is_a_clear_error(api):
    client, call = api
    call.side_effect = trove_exc.GuestTimeout()
    with pytest.raises(GuestSilent) as info:
        client.stop_node()
    assert str(info.value) == (
        'the guest agent of member inst-7 did not answer stop_node within '
        '44s (agent stopped, VM gone or node stuck)')
    # Trove's own handlers keep working
    assert isinstance(info.value, trove_exc.GuestTimeout)


def test_trove_turns_a_messaging_timeout_into_guest_silent():
    """Through Trove's real ``_call``: oslo.messaging gives up after the
    bound it was handed, and the step's error says who was silent."""
    client = K2hdkcGuestAgentAPI.__new__(K2hdkcGuestAgentAPI)
    client.id, client.context = 'inst-9', mock.Mock()
    client.node_timeout = 5
    prepared = mock.Mock()
    prepared.call.side_effect = messaging.MessagingTimeout('gone')
    client.client = mock.Mock(prepare=mock.Mock(return_value=prepared))
    with pytest.raises(GuestSilent, match='inst-9 did not answer '
                                          'restart_k2hdkc within 5s'):
        client.restart_k2hdkc()
    assert client.client.prepare.call_args.kwargs['timeout'] == 5


def test_a_silent_guest_ends_the_step_naming_it():
    ring = Ring()
    for n in (1, 2, 3):
        ring.add('inst-%d' % n, '10.0.0.%d' % n, healthy=True)
    ring.faults[('inst-2', 'restart_k2hdkc')] = GuestSilent(
        'inst-2', 'restart_k2hdkc', 300)
    procs = Procedures(FakeFleet(ring), server_ctlport=8021,
                       timing=Timing(status_timeout=5, poll_interval=1))
    with pytest.raises(GuestCallError) as info:
        procs._restart_each([m for m in _members(ring)], 'grow')
    assert str(info.value) == (
        'grow: restart k2hdkc on inst-2: inst-2: GuestSilent: the guest '
        'agent of member inst-2 did not answer restart_k2hdkc within 300s '
        '(agent stopped, VM gone or node stuck)')


def _members(ring):
    from trove_k2hdkc.cluster.procedures import Member
    return [Member(n.id, n.ip) for n in ring.nodes.values()]


def _params(client, name):
    import inspect
    return list(inspect.signature(getattr(client, name)).parameters)
