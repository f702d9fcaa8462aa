"""Start rings of data-plane stand-ins on 127.0.0.1 for tests.

Why: contract and functional tests (and other engineers' tests) need a
running chmpx/k2hdkc ring with a slave, reachable by control port and
k2hdkclinetool, and torn down completely even when a test fails.

Usage::

    with harness.LocalRing(tmp_path, servers=3) as ring:
        ring.bootstrap(3)                 # doc/ring-procedures.md §2
        ring.linetool(['set k v', 'print k'])
"""

from __future__ import annotations

import os
import pathlib
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from tests.standins.dataplane import common
from tests.standins.dataplane import faults

BIN_DIR = pathlib.Path(__file__).resolve().parent / 'bin'
GROUP = 'mydkc'
HEALTHY = 0x21
SUSPEND = 0x10000


#: Real chmpx keeps ports in a signed 16-bit field and the guest refuses
#: larger ones, while the kernel's ephemeral range starts above it.
_PORTS = range(20000, 32768)


def free_port() -> int:
    """A port below 32768 that is free on 127.0.0.1 right now."""
    for port in random.sample(_PORTS, 200):
        with socket.socket() as sock:
            try:
                sock.bind(('127.0.0.1', port))
            except OSError:
                continue
            return port
    raise OSError('no free port below 32768 on 127.0.0.1')


def ctl(port: int, command: str, timeout: float = 5.0) -> str:
    """Send one control-port command; return the whole reply."""
    with socket.create_connection(('127.0.0.1', port), timeout) as sock:
        sock.sendall(command.encode() + b'\n')
        data = b''
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data.decode('utf-8', 'replace')
            data += chunk


def status_codes(reply: str) -> list[int]:
    """Every ``Server Status`` code in a SELFSTATUS/ALLSTATUS reply."""
    out = []
    for line in reply.splitlines():
        if 'Server Status' in line:
            out.append(int(line.split('=', 1)[1].strip().split('(')[0], 16))
    return out


def wait_for(pred, timeout: float = 20.0, what: str = 'condition'):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = pred()
            if last:
                return last
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError('timed out waiting for %s (last=%r)' % (what, last))


def render_ini(group: str, servers: list, slave: dict, me: dict | None,
               automerge: bool, replica: int = 1, k2hfile: str = '',
               extra_global: str = '') -> str:
    """An INI in the shape K2HR3 renders (tests/data/reference/ini/3nodes)."""
    mode = 'SERVER' if me is not None and me is not slave else 'SLAVE'
    selfcuk = (me or slave)['cuk']
    lines = [
        '[GLOBAL]', 'FILEVERSION         = 1', 'GROUP               = %s'
        % group, 'MODE                = %s' % mode,
        'CHMPXIDTYPE         = CUSTOM', 'DELIVERMODE         = hash',
        'MAXCHMPX            = 256', 'REPLICA             = %d' % replica,
        'MAXMQSERVER         = 4', 'MAXMQCLIENT         = 8',
        'MQPERATTACH         = 2', 'MAXQPERSERVERMQ     = 8',
        'MAXQPERCLIENTMQ     = 8', 'MAXMQPERCLIENT      = 4',
        'MAXHISTLOG          = 0', 'SELFCUK             = %s' % selfcuk,
        'RWTIMEOUT           = 10000', 'RETRYCNT            = 500',
        'CONTIMEOUT          = 1000', 'MQRWTIMEOUT         = 500',
        'MQRETRYCNT          = 10000', 'MQACK               = no',
        'AUTOMERGE           = %s' % ('on' if automerge else 'off'),
        'DOMERGE             = on', 'SOCKTHREADCNT       = 4',
        'MQTHREADCNT         = 4', 'MAXSOCKPOOL         = 10',
        'SOCKPOOLTIMEOUT     = 0', 'SSL                 = no',
        'K2HFULLMAP          = on', 'K2HMASKBIT          = 4',
        'K2HCMASKBIT         = 8', 'K2HMAXELE           = 16',
    ]
    if extra_global:
        lines.append(extra_global)
    for srv in servers:
        lines += ['', '[SVRNODE]', 'NAME                = 127.0.0.1',
                  'CUK                 = %s' % srv['cuk'],
                  'PORT                = %d' % srv['port'],
                  'CTLPORT             = %d' % srv['ctlport'],
                  'CUSTOM_ID_SEED      = %s' % srv['seed'],
                  'SSL                 = no']
    lines += ['', '[SLVNODE]', 'NAME                = 127.0.0.1',
              'CUK                 = %s' % slave['cuk'],
              'CTLPORT             = %d' % slave['ctlport'],
              'CUSTOM_ID_SEED      = %s' % slave['seed'],
              'SSL                 = no', '', '[K2HDKC]',
              'K2HTYPE             = file',
              'K2HFILE             = %s' % k2hfile,
              'K2HINIT             = no', 'MAXTHREAD           = 4', '']
    return '\n'.join(lines)


class LocalRing:
    """Up to ``servers`` server nodes plus one slave, all on 127.0.0.1."""

    def __init__(self, workdir, servers: int = 4, automerge: bool = False,
                 replica: int = 1, group: str = GROUP) -> None:
        self.dir = pathlib.Path(workdir)
        self.group = group
        #: The stand-in's shm file is a unix socket, whose path must stay
        #: short (108 bytes) even with a k2hdkc-<uuid> GROUP in its name.
        self.shm_root = pathlib.Path(tempfile.mkdtemp(prefix='ring-shm-'))
        self.automerge = automerge
        self.replica = replica
        self.nodes = []
        for i in range(1, servers + 1):
            ndir = self.dir / ('node%d' % i)
            ndir.mkdir(parents=True, exist_ok=True)
            (self.shm_root / ('node%d' % i)).mkdir()
            self.nodes.append({
                'name': 'node%d' % i, 'dir': ndir,
                'shm': self.shm_root / ('node%d' % i),
                'port': free_port(), 'ctlport': free_port(),
                'cuk': '6f1c2a4e-0b1d-4c55-9a53-6d1f0e2b7a%02d' % i,
                'seed': 'mydkc-server-%d.example.net' % i,
                'ini': ndir / 'k2hdkc.ini', 'k2hfile': ndir / 'data.k2h'})
        sdir = self.dir / 'slave'
        sdir.mkdir(parents=True, exist_ok=True)
        (self.shm_root / 'slave').mkdir()
        self.slave = {'name': 'slave', 'dir': sdir, 'ctlport': free_port(),
                      'shm': self.shm_root / 'slave',
                      'cuk': '9b8d7c6e-5f4a-4b3c-8d2e-1f0a9b8c7d01',
                      'seed': 'mydkc-slave-1.example.net',
                      'ini': sdir / 'slave.ini', 'k2hfile': ''}
        self.procs: dict[tuple[str, str], subprocess.Popen] = {}
        #: Every process of the ring reads its faults here (faults.py).
        self.faults_path = self.dir / faults.FILE_NAME
        self.members: list[int] = []

    # -- config ------------------------------------------------------------

    def write_configs(self, members: list[int], automerge: bool | None = None,
                      nodes: list[int] | None = None) -> None:
        """Write (rename over) the INI of the listed nodes and the slave.

        ``members`` are 1-based node numbers in SVRNODE; ``nodes`` which
        files to write (default: members + slave).
        """
        if automerge is not None:
            self.automerge = automerge
        self.members = list(members)
        servers = [self.nodes[i - 1] for i in members]
        targets = [self.nodes[i - 1] for i in (nodes or members)]
        for node in targets + [self.slave]:
            text = render_ini(self.group, servers, self.slave,
                              node if node is not self.slave else None,
                              self.automerge, self.replica,
                              str(node['k2hfile']))
            tmp = pathlib.Path(str(node['ini']) + '.tmp')
            tmp.write_text(text)
            os.replace(tmp, node['ini'])

    # -- processes -----------------------------------------------------------

    def env(self, node: dict) -> dict:
        env = dict(os.environ)
        env['PATH'] = str(BIN_DIR) + os.pathsep + env.get('PATH', '')
        env[common.SHMDIR_ENV] = str(node['shm'])
        env['K2HDKC_STANDIN_BIND'] = '127.0.0.1'
        env[faults.ENV] = str(self.faults_path)
        return env

    def node(self, num: int | str) -> dict:
        return self.slave if num == 'slave' else self.nodes[num - 1]

    def spawn(self, num, prog: str, *args: str) -> subprocess.Popen:
        node = self.node(num)
        log = open(node['dir'] / ('%s.log' % prog), 'ab')
        proc = subprocess.Popen(
            [prog, '-conf', str(node['ini']), '-ctlport',
             str(node['ctlport']), '-d', 'err', *args],
            env=self.env(node), stdout=log, stderr=log,
            stdin=subprocess.DEVNULL)
        log.close()
        self.procs[(str(num), prog)] = proc
        return proc

    def start_chmpx(self, num) -> subprocess.Popen:
        proc = self.spawn(num, 'chmpx')
        port = self.node(num)['ctlport']
        wait_for(lambda: proc.poll() is not None or ctl(port, 'VERSION'),
                 10, 'chmpx %s control port' % num)
        return proc

    def start_k2hdkc(self, num: int) -> subprocess.Popen:
        return self.spawn(num, 'k2hdkc')

    def stop(self, num, prog: str, sig: int = signal.SIGHUP) -> int | None:
        proc = self.procs.pop((str(num), prog), None)
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(sig)
        try:
            return proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait(5)

    def stop_node(self, num) -> int | None:
        """k2hdkc, then chmpx once it shows [Suspend] (no SIGHUP crash,
        doc/ring-procedures.md §9); chmpx's exit code."""
        self.stop(num, 'k2hdkc')
        wait_for(lambda: self.self_code(num) & SUSPEND, 10,
                 'node %s [Suspend]' % num)
        return self.stop(num, 'chmpx')

    def close(self) -> None:
        for key in list(self.procs):
            proc = self.procs.pop(key)
            if proc.poll() is None:
                proc.send_signal(signal.SIGHUP)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        shutil.rmtree(self.shm_root, ignore_errors=True)

    def __enter__(self) -> LocalRing:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- control port --------------------------------------------------------

    def ctl(self, num, command: str) -> str:
        return ctl(self.node(num)['ctlport'], command)

    def self_code(self, num) -> int:
        return status_codes(self.ctl(num, 'SELFSTATUS'))[0]

    def wait_self(self, num, code: int, timeout: float = 20.0) -> None:
        wait_for(lambda: self.self_code(num) == code, timeout,
                 'node %s status 0x%x' % (num, code))

    def wait_all(self, codes, via=None, timeout: float = 20.0) -> None:
        """Wait until ALLSTATUS on ``via`` shows ``codes`` in order."""
        via = via or self.members[0]
        wait_for(lambda: status_codes(self.ctl(via, 'ALLSTATUS'))
                 == list(codes), timeout, 'ALLSTATUS %s on %s'
                 % ([hex(c) for c in codes], via))

    # -- procedures (doc/ring-procedures.md) -------------------------------

    def start_node(self, num: int) -> None:
        self.start_chmpx(num)
        self.start_k2hdkc(num)

    def bootstrap(self, count: int) -> None:
        """doc/ring-procedures.md §2: N nodes, SERVICEIN each, MERGE,
        COMPMERGE, slave."""
        members = list(range(1, count + 1))
        self.write_configs(members)
        for num in members:
            self.start_node(num)
        for num in members:
            wait_for(lambda n=num: self.self_code(n) in (0x11, 0x1121),
                     20, 'node %d up' % num)
            if self.self_code(num) == 0x11:
                assert self.ctl(num, 'SERVICEIN') == 'SUCCEED\n'
        for num in members:
            self.wait_self(num, 0x1121)
        self.ctl(1, 'MERGE')
        self.wait_all([0x3121] * count)
        self.ctl(1, 'COMPMERGE')
        self.wait_all([HEALTHY] * count)
        self.start_chmpx('slave')
        self.wait_all([HEALTHY] * count, via='slave')

    def restart_k2hdkc(self, num: int, expect: int = 0x1021,
                       suspended: int = 0x10021) -> None:
        assert self.stop(num, 'k2hdkc') == 0
        self.wait_self(num, suspended)
        self.start_k2hdkc(num)
        self.wait_self(num, expect)

    def merge(self, via: int, expected: dict[int, int]) -> None:
        """MERGE via ``via`` until each node of ``expected`` shows its
        code. Not watched: a hung merge (``faults``) fails the wait; the
        floor's ring recovers as doc/ring-procedures.md §8 says
        (tests/rig/floor.py)."""
        assert self.ctl(via, 'MERGE') == 'SUCCEED\n'
        for num, code in expected.items():
            self.wait_self(num, code)

    def grow(self, new: int) -> None:
        """doc/ring-procedures.md §3 with AUTOMERGE=off: every node goes
        through Pending."""
        old = self.prepare_grow(new)
        expected = dict.fromkeys(old, 0x3021)
        expected[new] = 0x3121
        self.merge(old[0], expected)
        assert self.ctl(old[0], 'COMPMERGE') == 'SUCCEED\n'
        self.wait_all([HEALTHY] * (len(old) + 1), via='slave')

    def prepare_grow(self, new: int) -> list[int]:
        """doc/ring-procedures.md §3 up to the MERGE; the old members."""
        old = list(self.members)
        self.write_configs(old + [new], automerge=False)
        self.wait_all([HEALTHY] * len(old) + [0x10], via=old[0])
        self.start_node(new)
        self.wait_self(new, 0x11)
        assert self.ctl(new, 'SERVICEIN') == 'SUCCEED\n'
        self.wait_self(new, 0x1121)
        for num in old:
            self.restart_k2hdkc(num)
        return old

    def shrink(self, leaving: int) -> None:
        """doc/ring-procedures.md §4: SERVICEOUT, restarts, MERGE, COMPMERGE,
        stop, rewrite."""
        rest = self.prepare_shrink(leaving)
        assert self.ctl(rest[0], 'MERGE') == 'SUCCEED\n'
        codes = [0x3221 if n == leaving else 0x3021 for n in self.members]
        self.wait_all(codes, via=rest[0])
        assert self.ctl(rest[0], 'COMPMERGE') == 'SUCCEED\n'
        codes = [0x11 if n == leaving else HEALTHY for n in self.members]
        self.wait_all(codes, via=rest[0])
        self.stop_node(leaving)
        self.write_configs(rest)
        self.wait_all([HEALTHY] * len(rest), via='slave')

    def serviceout(self, via: int, leaving: int) -> str:
        node = self.nodes[leaving - 1]
        return self.ctl(via, 'SERVICEOUT 127.0.0.1:%d:%s'
                        % (node['ctlport'], node['seed']))

    def prepare_shrink(self, leaving: int) -> list[int]:
        """doc/ring-procedures.md §4 up to the MERGE; the remaining
        members."""
        rest = [n for n in self.members if n != leaving]
        assert self.serviceout(rest[0], leaving) == 'SUCCEED\n'
        self.wait_self(leaving, 0x1221)
        for num in rest:
            self.restart_k2hdkc(num)
        return rest

    def purge(self) -> None:
        """doc/ring-procedures.md §5: refill every node from an empty file, one
        at a time."""
        for num in self.members:
            self.empty_k2hdkc(num)
            self.merge(num, {num: 0x3021})
            self.ctl(num, 'COMPMERGE')
            self.wait_self(num, HEALTHY)

    def empty_k2hdkc(self, num: int) -> None:
        """doc/ring-procedures.md §5 up to the MERGE: k2hdkc restarted on
        an empty file."""
        assert self.stop(num, 'k2hdkc') == 0
        self.wait_self(num, 0x10021)
        os.unlink(self.nodes[num - 1]['k2hfile'])
        self.start_k2hdkc(num)
        self.wait_self(num, 0x1021)

    # -- clients --------------------------------------------------------------

    def linetool(self, commands: list[str]) -> tuple[str, str]:
        script = self.slave['dir'] / 'cmds.txt'
        script.write_text('\n'.join(list(commands) + ['quit']) + '\n')
        res = subprocess.run(
            ['k2hdkclinetool', '-conf', str(self.slave['ini']), '-ctlport',
             str(self.slave['ctlport']), '-run', str(script)],
            env=self.env(self.slave), capture_output=True, text=True,
            timeout=120, stdin=subprocess.DEVNULL)
        return res.stdout, res.stderr

    def readable(self, keys: dict[str, str]) -> int:
        """How many keys read back with their expected value."""
        out, _ = self.linetool(['print %s' % k for k in keys])
        return sum(1 for k, v in keys.items()
                   if '"%s" => "%s"' % (k, v) in out.splitlines())
