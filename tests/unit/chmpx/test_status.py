"""Concrete decoded values of chosen captures, and malformed replies."""

from __future__ import annotations

import datetime

import pytest

from trove_k2hdkc.chmpx import status
from trove_k2hdkc.chmpx.errors import UnexpectedReply
from trove_k2hdkc.chmpx.status import Action
from trove_k2hdkc.chmpx.status import Live
from trove_k2hdkc.chmpx.status import Operate
from trove_k2hdkc.chmpx.status import Ring

CUK = '6f1c2a4e-0b1d-4c55-9a53-6d1f0e2b7a0%d'


@pytest.fixture
def capture(reference_dir):
    def read(relative):
        path = reference_dir / 'chmpx' / 'control_port' / relative
        return path.read_bytes().decode('utf-8')
    return read


def test_healthy_allstatus_lists_three_healthy_servers(capture):
    parsed = status.parse_all_status(
        capture('healthy_3nodes/node1_ALLSTATUS.txt'))
    assert parsed.ring_name == 'mydkc'
    assert parsed.all_healthy
    assert [(s.port, s.ctlport, s.cuk, s.custom_id_seed, s.enable_hash,
             s.pending_hash, s.status.code) for s in parsed.servers] == [
        (28020 + 2 * i, 28021 + 2 * i, CUK % (i + 1),
         f'mydkc-server-{i + 1}.example.net', i, i, 0x21)
        for i in range(3)]
    first = parsed.servers[0]
    assert first.ssl is False
    assert first.endpoints == first.ctl_endpoints == ''
    assert first.last_update.counter == 30120225375272865
    assert first.last_update.when == datetime.datetime(
        2026, 11, 21, 23, 55, 34, 802721, tzinfo=datetime.UTC)
    assert parsed.find(ctlport=28023).custom_id_seed == \
        'mydkc-server-2.example.net'
    assert parsed.find(custom_id_seed='nosuch') is None


def test_healthy_selfstatus_all_fields(capture):
    parsed = status.parse_self_status(
        capture('healthy_3nodes/node1_SELFSTATUS.txt'))
    assert parsed.internal_id == 0x680f3e826db380c
    assert parsed.mode == 'Server' and parsed.is_server
    assert (parsed.max_mq_count, parsed.max_queue_per_chmpx_mq,
            parsed.max_queue_per_client_mq) == (12, 8, 8)
    assert parsed.status.is_healthy
    assert (parsed.enable_hash, parsed.pending_hash) == (0, 0)
    assert (parsed.port, parsed.port_socket) == (28020, 12)
    assert (parsed.ctlport, parsed.ctlport_socket) == (28021, 13)
    assert parsed.cuk == CUK % 1
    assert parsed.custom_id_seed == 'mydkc-server-1.example.net'
    assert parsed.ssl is False
    assert (parsed.to_servers, parsed.from_slaves, parsed.on_ctlport) == (
        3, 2, 1)
    servers = dict(parsed.stats)['To(From) Servers']
    assert servers[0] == ('send count', '63 count')
    assert len(servers) == 8            # repeated keys are all kept


def test_slave_selfstatus_has_no_port_and_no_hash(capture):
    parsed = status.parse_self_status(
        capture('healthy_3nodes/slave_SELFSTATUS.txt'))
    assert parsed.mode == 'Slave' and not parsed.is_server
    assert parsed.status.ring is Ring.SLAVE and parsed.status.is_up
    assert not parsed.status.is_healthy
    assert (parsed.port, parsed.port_socket) == (None, None)
    assert (parsed.enable_hash, parsed.pending_hash) == (None, None)
    assert parsed.ctlport == 28031


def test_down_node_and_never_updated(capture):
    parsed = status.parse_all_status(
        capture('down_node4_listed/node1_ALLSTATUS.txt'))
    node4 = parsed.servers[3]
    assert node4.status.code == 0x10
    assert (node4.status.ring, node4.status.live) == (Ring.SERVICE_OUT,
                                                      Live.DOWN)
    assert (node4.enable_hash, node4.pending_hash) == (None, None)
    assert node4.last_update.never and node4.last_update.when is None
    assert not parsed.all_healthy


def test_suspended_node(capture):
    parsed = status.parse_self_status(
        capture('suspend_node3/node3_SELFSTATUS.txt'))
    assert parsed.status.code == 0x10021
    assert parsed.status.suspended and not parsed.status.attached
    assert parsed.status.in_service and not parsed.status.is_healthy


def _node4_sequence(capture, folder, names):
    out = []
    for name in names:
        text = capture(f'{folder}/{name}')
        if 'ALLSTATUS' in name:
            node = status.parse_all_status(text).servers[3].status
        else:
            node = status.parse_self_status(text).status
        out.append((node.ring, node.action, node.operate))
    return out


def test_servicein_automerge_timeline(capture):
    # timeline.txt: 0x11 -> 0x1121 -> 0x2121 -> 0x3121 -> 0x21
    seq = _node4_sequence(
        capture, 'scaleout_node4_servicein_automerge',
        [f'00{i}_node4_SELFSTATUS.txt' for i in range(1, 6)])
    assert seq == [
        (Ring.SERVICE_OUT, Action.NONE, Operate.NOTHING),
        (Ring.SERVICE_IN, Action.ADD, Operate.PENDING),
        (Ring.SERVICE_IN, Action.ADD, Operate.DOING),
        (Ring.SERVICE_IN, Action.ADD, Operate.DONE),
        (Ring.SERVICE_IN, Action.NONE, Operate.NOTHING)]


def test_serviceout_automerge_timeline(capture):
    # node1's view of node4: 0x21 -> 0x1221 -> 0x2221 -> 0x3221 -> 0x11
    seq = _node4_sequence(
        capture, 'scalein_node4_serviceout_automerge',
        [f'00{i}_node1_ALLSTATUS.txt' for i in (1, 3, 5, 7, 9)])
    assert seq == [
        (Ring.SERVICE_IN, Action.NONE, Operate.NOTHING),
        (Ring.SERVICE_IN, Action.DELETE, Operate.PENDING),
        (Ring.SERVICE_IN, Action.DELETE, Operate.DOING),
        (Ring.SERVICE_IN, Action.DELETE, Operate.DONE),
        (Ring.SERVICE_OUT, Action.NONE, Operate.NOTHING)]


def test_abort_leaves_pending_then_done(capture):
    pending = status.parse_self_status(capture(
        'scalein_node4_manual_abort/07_node4_SELFSTATUS_after_abort.txt'))
    assert pending.status.code == 0x1021
    assert pending.status.needs_merge and pending.status.is_merging
    assert pending.status.action is Action.NONE
    done = status.parse_self_status(capture(
        'scalein_node4_manual_abort/09_node4_SELFSTATUS_after_COMPMERGE.txt'))
    assert done.status.code == 0x3021
    assert done.status.needs_compmerge and not done.status.needs_merge


@pytest.mark.parametrize('value', [
    '0x21(SAFE -> [SERVICE IN][UP][n/a][Nothing])',
    '0x21(SAFE -> [SERVICE IN][UP][n/a][Nothing][Maybe])',
    '0x21(SAFE -> [SERVICE ON][UP][n/a][Nothing][NoSuspend])',
    '0x11(SAFE -> [SERVICE IN][UP][n/a][Nothing][NoSuspend])',
    '0x21(SAFE -> [SERVICE IN][UP][n/a][Nothing][Suspend])',
    '21(SAFE -> [SERVICE IN][UP][n/a][Nothing][NoSuspend])',
    '',
])
def test_malformed_status_is_rejected(value):
    with pytest.raises(UnexpectedReply) as info:
        status.parse_node_status(value)
    assert info.value.raw == value


def test_status_text_round_trip():
    text = '0x3221(SAFE -> [SERVICE IN][UP][DELETE][Done][NoSuspend])'
    assert status.parse_node_status(text).text == text


def test_selfstatus_missing_field_is_rejected(capture):
    text = capture('healthy_3nodes/node1_SELFSTATUS.txt')
    broken = '\n'.join(line for line in text.splitlines()
                       if 'Pending Hash Value' not in line)
    with pytest.raises(UnexpectedReply, match='Pending Hash Value'):
        status.parse_self_status(broken)
    with pytest.raises(UnexpectedReply, match='unclosed'):
        status.parse_self_status(text.rsplit('}', 1)[0])


def test_allstatus_out_of_order_and_garbage(capture):
    text = capture('healthy_3nodes/node1_ALLSTATUS.txt')
    with pytest.raises(UnexpectedReply, match='out of order'):
        status.parse_all_status(text.replace('No.2', 'No.3'))
    with pytest.raises(UnexpectedReply, match='RING Name'):
        status.parse_all_status('SUCCEED\n')
    with pytest.raises(UnexpectedReply, match='Last Update'):
        status.parse_all_status(text.replace('23h 55m', '23:55'))


def test_version_rejects_other_replies():
    with pytest.raises(UnexpectedReply):
        status.parse_version('SUCCEED\n')
