"""Contract: data behaviour of the k2hdkc stand-ins.

What keys survive which procedure: doc/ring-procedures.md §1, §5, §6.
"""

from __future__ import annotations

import signal
import subprocess

import pytest

from tests.standins.dataplane import harness


def _keys(prefix: str, count: int) -> dict[str, str]:
    return {'%s-%d' % (prefix, i): 'v%d-%s' % (i, prefix)
            for i in range(count)}


def _write(ring, keys: dict[str, str]) -> None:
    out, err = ring.linetool(['set %s %s' % kv for kv in keys.items()])
    assert err == ''


@pytest.fixture
def ring3(tmp_path):
    with harness.LocalRing(tmp_path, servers=4) as ring:
        ring.bootstrap(3)
        yield ring


def test_basic_transcript_matches_capture(ring3, reference_dir):
    text = (reference_dir / 'k2hdkc/k2hdkclinetool_basic.out').read_text()
    lines = text.split('\n')
    stop = lines.index('> status chmpx')
    skip = {'> print caskey dump'}
    commands, want_out, want_err = [], [], []
    i = 0
    while i < stop:
        line = lines[i]
        i += 1
        if line in skip:
            i += 1
            continue
        if line.startswith('> '):
            commands.append(line[2:])
            want_out.append(line)
        elif line.startswith('[ERR]'):
            want_err.append(line)
        else:
            want_out.append(line)
    out, err = ring3.linetool(commands)
    assert out.split('\n')[:-3] == want_out
    assert out.endswith('> quit\nQuit.\n')
    assert err.splitlines() == want_err


def test_stock_automerge_grow_loses_keys(ring3):
    keys = _keys('skey', 300)
    _write(ring3, keys)
    assert ring3.readable(keys) == len(keys)
    ring3.write_configs([1, 2, 3, 4], automerge=True)
    ring3.wait_all([0x21, 0x21, 0x21, 0x10], via=1)
    ring3.start_node(4)
    ring3.wait_all([0x21] * 4, via='slave')
    readable = ring3.readable(keys)
    # only keys whose primary stayed put or moved to the new node survive
    assert 0 < readable < len(keys)


def test_safe_grow_and_shrink_keep_keys_but_resurrect(ring3):
    keys = _keys('skey', 200)
    _write(ring3, keys)
    ring3.grow(4)
    assert ring3.readable(keys) == len(keys)
    deleted = list(keys)[:30]
    out, err = ring3.linetool(['rm %s' % k for k in deleted])
    assert err == ''
    kept = {k: v for k, v in keys.items() if k not in deleted}
    ring3.shrink(4)
    assert ring3.readable(kept) == len(kept)
    back = ring3.readable({k: keys[k] for k in deleted})
    assert back > 0  # stale copies came back (doc/ring-procedures.md §5)


def test_purge_keeps_deleted_keys_deleted(ring3):
    keys = _keys('pkey', 200)
    _write(ring3, keys)
    ring3.grow(4)
    ring3.purge()
    assert ring3.readable(keys) == len(keys)
    deleted = list(keys)[:30]
    ring3.linetool(['rm %s' % k for k in deleted])
    ring3.shrink(4)
    ring3.purge()
    kept = {k: v for k, v in keys.items() if k not in deleted}
    assert ring3.readable(kept) == len(kept)
    assert ring3.readable({k: keys[k] for k in deleted}) == 0


def test_node_death_with_automerge_off_reads_replica(ring3):
    keys = _keys('dkey', 100)
    _write(ring3, keys)
    ring3.stop(3, 'k2hdkc', signal.SIGKILL)
    ring3.stop(3, 'chmpx', signal.SIGKILL)
    ring3.wait_all([0x21, 0x21, 0x20], via=1)
    ring3.wait_all([0x21, 0x21, 0x20], via='slave')
    assert ring3.readable(keys) == len(keys)
    # MERGE is refused while a member is down: nothing changes
    assert ring3.ctl(1, 'MERGE') == 'SUCCEED\n'
    more = _keys('late', 20)
    _write(ring3, more)
    ring3.start_chmpx(3)
    ring3.wait_self(3, 0x10021)
    ring3.start_k2hdkc(3)
    ring3.wait_self(3, 0x1021)
    ring3.ctl(1, 'MERGE')
    ring3.wait_self(3, 0x3021)
    ring3.ctl(1, 'COMPMERGE')
    ring3.wait_all([0x21] * 3, via='slave')
    assert ring3.readable(dict(keys, **more)) == len(keys) + len(more)


def test_chmpx_down_with_automerge_on(ring3):
    keys = _keys('hkey', 60)
    _write(ring3, keys)
    ring3.write_configs([1, 2, 3], automerge=True)
    harness.wait_for(lambda: 'automerge in conf    = yes'
                     in ring3.ctl(1, 'DUMP'), 10, 'reload')
    assert ring3.stop(3, 'k2hdkc') == 0
    ring3.wait_self(3, 0x10021)  # then SIGHUP is safe (test_dataplane_faults)
    assert ring3.stop(3, 'chmpx') == 0
    ring3.wait_all([0x21, 0x21, 0x10], via=1)
    node = ring3.nodes[2]
    assert ring3.ctl(1, 'SERVICEOUT 127.0.0.1:%d:%s' % (
        node['ctlport'], node['seed'])) == (
        'SUCCEED: Already server has been SERVICEOUT.\n')
    assert 0 < ring3.readable(keys) < len(keys)
    # rejoin (rejoin_node3_after_restart): OUT/UP/Suspend, then ADD merge
    ring3.start_chmpx(3)
    ring3.wait_self(3, 0x10011)
    ring3.start_k2hdkc(3)
    ring3.wait_all([0x21] * 3, via='slave')
    assert ring3.readable(keys) == len(keys)


def test_archive_round_trip(ring3, tmp_path):
    keys = _keys('akey', 50)
    _write(ring3, keys)
    node = ring3.nodes[0]
    archive = tmp_path / 'node1.ar'
    cmds = tmp_path / 'put.cmd'
    cmds.write_text('archive put %s\nquit\n' % archive)
    res = subprocess.run(
        ['k2hlinetool', '-f', str(node['k2hfile']), '-ro', '-run',
         str(cmds)], env=ring3.env(node), capture_output=True, text=True,
        timeout=30)
    assert res.returncode == 0
    assert res.stdout.endswith('> archive put %s\n> quit\nQuit & Detach.\n'
                               % archive)
    assert 'Permanent file(read only attached):     %s' % node['k2hfile'] \
        in res.stdout
    fresh = tmp_path / 'fresh.k2h'
    held = [k for k in keys if '"%s"' % k in archive.read_text()]
    assert held
    cmds.write_text('archive load %s\n%s\narchive load %s\nquit\n' % (
        archive, '\n'.join('print %s' % k for k in held),
        tmp_path / 'no-such.ar'))
    res = subprocess.run(
        ['k2hlinetool', '-f', str(fresh), '-run', str(cmds)],
        env=ring3.env(node), capture_output=True, text=True, timeout=30)
    assert res.returncode == 0
    for k in held:
        assert '  +"%s" => "%s"' % (k, keys[k]) in res.stdout.splitlines()
    assert ('[ERR] Something error occurred during loading archive '
            'file(%s).' % (tmp_path / 'no-such.ar')) in res.stdout


def test_dead_member_serviced_out_by_a_peer_keeps_every_key(ring3):
    """doc/ring-procedures.md §4: a member whose VM is gone (0x20 in
    every view) is taken out through a live peer's control port. chmpx
    handles a down server locally: [SERVICE IN][DOWN][DELETE][Pending]
    (0x1220) everywhere, the slave included; it keeps its base hash, so
    reads of its range still fall back to replicas. The live members
    merge the new layout among themselves (the leaver goes to 0x3220 on
    MERGE) and COMPMERGE takes it out (0x10). With REPLICA=1 every key
    has a live copy and is readable before and after."""
    ring3.grow(4)
    keys = _keys('xkey', 200)
    _write(ring3, keys)
    ring3.stop(4, 'k2hdkc', signal.SIGKILL)
    ring3.stop(4, 'chmpx', signal.SIGKILL)
    # Every view, the slave's included, must see the member down before a
    # read: until then the slave still sends its range to the dead node.
    for via in (1, 2, 3, 'slave'):
        ring3.wait_all([0x21, 0x21, 0x21, 0x20], via=via)
    assert ring3.readable(keys) == len(keys)
    assert ring3.serviceout(1, 4) == 'SUCCEED\n'
    for via in (1, 2, 3, 'slave'):
        ring3.wait_all([0x21, 0x21, 0x21, 0x1220], via=via)
    assert ring3.readable(keys) == len(keys)
    for num in (1, 2, 3):
        ring3.restart_k2hdkc(num)
    ring3.merge(1, {1: 0x3021, 2: 0x3021, 3: 0x3021})
    ring3.wait_all([0x3021, 0x3021, 0x3021, 0x3220], via=1)
    assert ring3.ctl(1, 'COMPMERGE') == 'SUCCEED\n'
    ring3.wait_all([0x21, 0x21, 0x21, 0x10], via='slave')
    assert ring3.readable(keys) == len(keys)
    ring3.write_configs([1, 2, 3])
    ring3.wait_all([0x21] * 3, via='slave')
    assert ring3.readable(keys) == len(keys)
