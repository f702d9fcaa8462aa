"""k2hdkc stand-in: attaches to the local chmpx and serves its requests.

Why: the guest agent runs and signals k2hdkc like the real server; the
stand-in keeps the node's elements in the [K2HDKC] K2HFILE (K2HINIT=no
keeps it over restarts) and answers data and merge requests.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time

from tests.standins.dataplane import common
from tests.standins.dataplane import faults
from tests.standins.dataplane import ini
from tests.standins.dataplane import store as storemod

CAS_SIZES = {8: 1, 16: 2, 32: 4, 64: 8}
#: Set (to anything) to make this k2hdkc ignore SIGHUP, like the hung
#: k2hdkc of doc/ring-procedures.md §8 that only SIGKILL stops.
IGNORE_SIGHUP_ENV = 'K2HDKC_STANDIN_IGNORE_SIGHUP'


def _cas_value(elem: dict) -> int:
    return int.from_bytes(common.s2b(elem.get('v') or ''), 'little')


def merge_pull(db: storemod.Store, req: dict,
               wedged: dict[str, bool]) -> dict:
    """Serve a merge pull, unless this k2hdkc is the requester's stuck
    responder (faults.py): a pull carrying ``wedge`` makes it one, and it
    stays one for that requester until this process ends."""
    requester = req.get('from', '')
    if isinstance(req.get('wedge'), dict):
        wedged[requester] = bool(req['wedge'].get('stubborn'))
    if requester in wedged:
        return {'wedged': True, 'stubborn': wedged[requester]}
    return {'elements': db.get_range(
        int(req['target']), int(req['count']), int(req['tmax']),
        int(req['old']), int(req['omax']), int(req['startts']))}


def execute(db: storemod.Store, req: dict,
            wedged: dict[str, bool] | None = None) -> dict:
    op = req.get('op')
    key = req.get('key', '')
    mtime = int(req.get('mtime') or time.time_ns())
    with db.lock:
        if op == 'last_update':
            return {'last_update': db.last_update}
        if op == 'getrange':
            return merge_pull(db, req, {} if wedged is None else wedged)
        if op == 'setelements':
            return {'added': db.set_elements(req.get('elements', []))}
        elem = db.live(key)
        if op in ('get', 'casget'):
            if elem is None:
                return {'found': False}
            return {'found': True, 'v': elem.get('v'),
                    's': elem.get('s', []), 'c': elem.get('c')}
        if op == 'set':
            new = {'v': req.get('v'), 's': (elem or {}).get('s', []),
                   'm': mtime}
            if req.get('x'):
                new['x'] = time.time_ns() + int(req['x']) * 10 ** 9
            db.elements[key] = new
        elif op == 'rm':
            db.elements.pop(key, None)
        elif op == 'addsub':
            if elem is None:
                elem = db.elements[key] = {'v': None, 's': [], 'm': mtime}
            if req['sub'] not in elem.setdefault('s', []):
                elem['s'].append(req['sub'])  # no mtime change (upstream)
        elif op == 'rmsub':
            if elem is not None:
                sub = req.get('sub')
                elem['s'] = [] if sub is None else [
                    s for s in elem.get('s', []) if s != sub]
        elif op == 'qpush':
            if elem is None:
                elem = db.elements[key] = {'v': None, 's': [], 'm': mtime}
            queue = elem.setdefault('q', [])
            item = req['item']
            if req.get('lifo'):
                queue.insert(0, item)
            else:
                queue.append(item)
        elif op == 'qpop':
            queue = (elem or {}).get('q') or []
            if not queue:
                return {'found': False}
            item = queue.pop(0)  # pops always take the head
            db.touch(key)
            return {'found': True, 'item': item}
        elif op == 'casinit':
            size = CAS_SIZES[int(req['bits'])]
            value = int(req['value']) & ((1 << (8 * size)) - 1)
            db.elements[key] = {'v': common.b2s(value.to_bytes(
                size, 'little')), 's': [], 'm': mtime, 'c': size}
        elif op in ('casset', 'casinc', 'casdec'):
            if elem is None or not elem.get('c'):
                return {'found': False}
            size = elem['c']
            cur = _cas_value(elem)
            if op == 'casset':
                if cur != int(req['old']):
                    return {'found': True}
                new = int(req['value'])
            else:
                new = cur + (1 if op == 'casinc' else -1)
            new &= (1 << (8 * size)) - 1
            elem['v'] = common.b2s(new.to_bytes(size, 'little'))
            elem['m'] = mtime
        else:
            return {'err': 'unknown op %s' % op}
        db.touch(key)
        return {'found': True}


def main(argv: list[str] | None = None) -> int:
    conf_path, ctlport, _ = ini.command_line(argv)
    try:
        conf = ini.load(conf_path or '', ctlport)
    except ini.ConfigError as exc:
        for line in exc.lines:
            sys.stderr.write(line + '\n')
        sys.stderr.write('ERROR: Failed to initialize control main '
                         'object.\n')
        return 1
    if conf.mqack:
        sys.stderr.write('[DKC-ERR] Initialize(362) : Chmpx MQ Ack mode is '
                         'true(on), MQ Ack mode must be OFF(FALSE) for '
                         'k2hdkc process.\nERROR: Failed to initialize '
                         'control main object.\n')
        return 1
    k2h = conf.k2hdkc
    path = k2h.get('K2HFILE') if k2h.get('K2HTYPE', 'file').lower() in (
        'file', 'permanent', 'perm') else None
    db = storemod.Store(path, ini.to_bool(k2h.get('K2HINIT'), True))
    # a new k2hdkc ends its node's own hung merge (faults.py "requester")
    faults.unpin_requester({'name': conf.self_node.name,
                            'ctlport': conf.self_node.ctlport})
    stop = threading.Event()
    wedged: dict[str, bool] = {}

    def on_sighup(*_) -> None:
        # a stubborn stuck responder ignores SIGHUP (faults.py)
        if not any(wedged.values()):
            stop.set()

    if os.environ.get(IGNORE_SIGHUP_ENV):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGHUP, on_sighup)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    rdv = common.rendezvous_path(conf.group, conf.self_node.ctlport)
    sock = None
    deadline = time.monotonic() + 10
    while sock is None and not stop.is_set():
        try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(rdv)
            common.send_msg(sock, {'op': 'attach', 'pid': os.getpid()})
            reader = common.LineReader(sock)
            if not (reader.read() or {}).get('ok'):
                raise OSError('attach refused')
        except (OSError, ValueError):
            sock.close()
            sock = None
            if time.monotonic() > deadline:
                sys.stderr.write('ERROR: Failed to initialize control main '
                                 'object.\n')
                return 1
            stop.wait(0.2)

    def serve() -> None:
        while not stop.is_set():
            try:
                req = reader.read()
            except (OSError, ValueError):
                req = None
            if req is None:
                return  # chmpx gone: stay orphaned like the real k2hdkc
            try:
                reply = execute(db, req, wedged)
            except Exception as exc:  # report, keep serving
                reply = {'err': repr(exc)}
            try:
                common.send_msg(sock, reply)
            except OSError:
                return

    if sock is not None:
        threading.Thread(target=serve, daemon=True).start()
    stop.wait()
    with db.lock:
        db.save()
    return 0
