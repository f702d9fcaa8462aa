"""k2hdkclinetool stand-in: a client through the local (slave) chmpx.

Why: operators and tests read and write keys with k2hdkclinetool; the
output strings are those of tests/data/reference/k2hdkc/k2hdkclinetool_*.out.
"""

from __future__ import annotations

import socket
import sys
import time

from tests.standins.dataplane import common
from tests.standins.dataplane import ini

NORES = '[ERR] RESULT CODE(DKC_RES_NORESTYPE - DKC_RES_SUBCODE_NORESTYPE)'
NODATA = '[ERR] RESULT CODE(DKC_RES_SUCCESS - DKC_RES_SUBCODE_NODATA)'
SET_ERR = '[ERR] Something internal error occurred during setting key and ' \
    'value.'
GEN_ERR = '[ERR] Something error occurred.'


class Failed(Exception):
    pass


class Client:
    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.reader = common.LineReader(self.sock)

    def call(self, op: str, key: str, **kw) -> dict:
        common.send_msg(self.sock, dict(kw, op=op, key=key))
        reply = self.reader.read()
        if reply is None or 'err' in reply:
            raise Failed()
        return reply


def _q(text: str) -> str:
    return '"%s"' % text


def _err(*lines: str) -> None:
    sys.stdout.flush()
    for line in lines:
        sys.stderr.write(line + '\n')
    sys.stderr.flush()


def _print(cli: Client, args: list[str]) -> None:
    key = args[0]
    try:
        got = cli.call('get', key)
    except Failed:
        _err(NORES, GEN_ERR)
        return
    if got.get('found') and got.get('v'):
        print('%s => %s' % (_q(key), _q(got['v'])))
    else:
        print('%s => value is not found' % _q(key))
    subs = got.get('s') or []
    if subs and 'all' in args[1:]:
        for sub in subs:
            try:
                val = cli.call('get', sub)
            except Failed:
                continue
            if val.get('found') and val.get('v'):
                print('  +%s => %s' % (_q(sub), _q(val['v'])))
    elif subs:
        print('    subkey: %s' % ', '.join(_q(s) for s in subs))


def _cas(cli: Client, bits: int, args: list[str]) -> None:
    sub = args[0] if args else ''
    if sub == 'init':
        if len(args) < 3:
            _err('[ERR] Too few parameter for cas init command.')
            return
        cli.call('casinit', args[1], bits=bits, value=int(args[2], 0))
    elif sub == 'get':
        got = cli.call('casget', args[1])
        if not got.get('found'):
            _err(NODATA)
            return
        raw = common.s2b(got.get('v') or '')
        value = int.from_bytes(raw, 'little')
        width = 2 * len(raw)
        fmt = '0x%%0%dx' if len(raw) >= 4 else '0x%%0%dX'
        print('%s => %d (%s)' % (_q(args[1]), value, (fmt % width) % value))
    elif sub == 'set':
        cli.call('casset', args[1], old=int(args[2], 0),
                 value=int(args[3], 0))
    elif sub in ('inc', 'dec'):
        cli.call('cas' + sub, args[1])


def run_one(cli: Client, line: str) -> bool:
    """Execute one command line; False when the tool should quit."""
    words = common.split_words(line)
    if not words:
        return True
    cmd, args = words[0].lower(), words[1:]
    try:
        if cmd in ('quit', 'exit', 'q'):
            print('Quit.')
            return False
        if cmd == 'sleep':
            time.sleep(float(args[0]))
        elif cmd == 'set':
            value = args[1] if len(args) > 1 else ''
            expire = [a.split('=', 1)[1] for a in args[2:]
                      if a.startswith('expire=')]
            try:
                cli.call('set', args[0],
                         v=None if value in ('', 'null') else value,
                         x=int(expire[0]) if expire else None)
            except Failed:
                _err(NORES, SET_ERR)
        elif cmd == 'print':
            _print(cli, args)
        elif cmd == 'rm':
            if 'all' in args[1:]:
                got = cli.call('get', args[0])
                for sub in got.get('s') or []:
                    cli.call('rm', sub)
            cli.call('rm', args[0])
        elif cmd == 'setsub':
            cli.call('set', args[1], v=args[2] if len(args) > 2 else None)
            cli.call('addsub', args[0], sub=args[1])
        elif cmd == 'rmsub':
            cli.call('rmsub', args[0],
                     sub=None if args[1] == 'all' else args[1])
        elif cmd == 'rename':
            got = cli.call('get', args[0])
            if got.get('found') and got.get('v') is not None:
                cli.call('set', args[1], v=got['v'])
                cli.call('rm', args[0])
        elif cmd in ('queue', 'keyqueue'):
            _queue(cli, cmd, args)
        elif cmd.startswith('cas'):
            bits = int(cmd[3:]) if cmd[3:] else 64
            _cas(cli, bits, args)
        elif cmd == 'fill':
            for i in range(int(args[2])):
                cli.call('set', '%s-%d' % (args[0], i), v=args[1])
        else:
            _err('[ERR] Unknown command(%s).' % words[0])
    except Failed:
        _err(NORES, GEN_ERR)
    except (IndexError, ValueError):
        _err('[ERR] Too few parameter for %s command.' % cmd)
    return True


def _queue(cli: Client, cmd: str, args: list[str]) -> None:
    name, sub = args[0], args[1]
    lifo = len(args) > 2 and args[2].lower() == 'lifo'
    if sub == 'push':
        if cmd == 'keyqueue':
            cli.call('set', args[3], v=args[4])
            cli.call('qpush', name, item=args[3], lifo=lifo)
        else:
            cli.call('qpush', name, item=args[3], lifo=lifo)
    elif sub == 'pop':
        got = cli.call('qpop', name, lifo=lifo)
        if not got.get('found'):
            print('popped %s queue => could not pop' % _q(name))
        elif cmd == 'keyqueue':
            item = got['item']
            val = cli.call('get', item)
            cli.call('rm', item)
            print('popped %s queue => %s : %s' % (
                _q(name), _q(item), _q(val.get('v') or '')))
        else:
            print('popped %s queue => %s' % (_q(name), _q(got['item'])))
    elif sub == 'remove':
        # the real tool removes the items and still reports an error
        for _ in range(int(args[3]) if len(args) > 3 else 1):
            if not cli.call('qpop', name, lifo=lifo).get('found'):
                break
        _err(NORES)
    else:
        raise Failed()


def main(argv: list[str] | None = None) -> int:
    conf_path, ctlport, found = ini.command_line(
        argv, ('-run', '-d', '-comlog'))
    run = found.get('-run')
    try:
        conf = ini.load(conf_path or '', ctlport)
        cli = Client(common.rendezvous_path(conf.group,
                                            conf.self_node.ctlport))
    except (ini.ConfigError, OSError):
        _err('[ERR] Could not initialize k2hdkc library(chmpx).')
        return 1
    lines: list[str] = []
    if run:
        with open(run, encoding='utf-8') as fobj:
            lines = fobj.read().splitlines()
    for line in lines:
        print('> %s' % line)
        sys.stdout.flush()
        if not run_one(cli, line):
            return 0
    while True:
        sys.stdout.write('K2HDKC> ')
        sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:
            return 0
        if not run_one(cli, line.rstrip('\n')):
            return 0
