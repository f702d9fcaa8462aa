"""Socket handlers of the chmpx stand-in: control port, peers, locals.

Why: one module holds every byte-level reply string of the control port
(tests/data/reference/README.md §4) so the contract tests can point at one
place.
"""

from __future__ import annotations

import os
import select
import socket
import socketserver
import threading
import time

from tests.standins.dataplane import common
from tests.standins.dataplane import faults
from tests.standins.dataplane import render
from tests.standins.dataplane import status as st

ERR_NOT_ALLOWED = ('ERROR: Could not change status, because status is not '
                   'allowed.')
ERR_SLAVE = 'ERROR: The command can not be executed on the slave node.'
ERR_SVCOUT_FMT = ('ERROR: SERVICEOUT command must have parameter as '
                  'server/ctlport.(ex: "SERVICEOUT servername.fqdn:ctlport")')
ERR_NO_SERVER = 'ERROR: There is no such as server.'
ERR_TRACE = ('ERROR: TRACE command must have parameter as enable/disable.'
             '(ex: "TRACE enable")')
SUCCEED = 'SUCCEED'


def chmpx_id(group: str, node) -> int:
    return common.key_hash(('%s|%s|%s|%d|%s' % (
        group, node.seed, node.name, node.ctlport, node.cuk)).encode())


def snapshot(proc) -> render.Snapshot:
    conf = proc.conf
    ring = proc.ring
    rows = []
    for node in conf.servers:
        bval, pval = ring.hashes(node.ident)
        rows.append(render.Row(node, ring.states[node.ident].copy(), bval,
                               pval, proc.hostname(node.name),
                               chmpx_id(conf.group, node), 'server'))
    slaves = []
    now = time.monotonic()
    for node in conf.slaves:
        seen = proc.slaves_seen.get(node.ident)
        if seen is not None and now - seen < 2.0:
            slaves.append(render.Row(
                node, st.State(ring='SLAVE', last=common.now_us()),
                common.NOHASH, common.NOHASH, proc.hostname(node.name),
                chmpx_id(conf.group, node), 'slave'))
    if ring.is_server:
        me = next(r for r in rows if r.node.ident == ring.me)
    else:
        node = conf.self_node
        me = render.Row(node, st.State(ring='SLAVE', last=proc.start_us),
                        common.NOHASH, common.NOHASH,
                        proc.hostname(node.name), chmpx_id(conf.group, node),
                        'slave')
    att = proc.k2hdkc
    return render.Snapshot(
        group=conf.group, me=me, servers=rows, slaves=slaves, conf=conf,
        pid=os.getpid(), start_time=proc.start_time,
        client_pids=[att.pid] if att is not None else [],
        suspend_automerge=proc.suspend_automerge,
        shm_path=proc.shm_path,
        k2h_path=proc.shm_path[:-len('.chmpx')] + '.k2h')


def serviceout(proc, arg: str) -> str:
    fields = arg.split(':') if arg else []
    idtype = proc.conf.idtype
    if idtype == 'NAME':
        ok = len(fields) in (2, 3)
    else:
        ok = len(fields) == 3
    if not ok or not fields[1].isdigit():
        return ERR_SVCOUT_FMT
    name, ctlport = fields[0], int(fields[1])
    extra = fields[2] if len(fields) == 3 else None
    target = None
    for node in proc.conf.servers:
        if node.ctlport != ctlport:
            continue
        if name not in (node.name, proc.hostname(node.name)):
            continue
        if extra is not None:
            want = node.seed if idtype == 'CUSTOM' else node.cuk
            if extra != want:
                continue
        target = node
        break
    if target is None:
        return ERR_NO_SERVER
    proc.refresh()
    with proc.lock:
        state = proc.ring.states[target.ident].copy()
        operating = proc.ring.operating()
    if not state.up:
        # chmpx handles a down server locally (doc/ring-procedures.md
        # §4): [DELETE][Pending] on every server, no merge on its side.
        if state.ring == 'IN' and not state.action:
            proc.broadcast('markout', target.ident)
            return SUCCEED
        return 'SUCCEED: Already server has been SERVICEOUT.'
    if operating:
        return ('ERROR: Could not change status, because server is '
                'operating now.')
    reply = proc.call_peer(target, {'op': 'serviceout'})
    proc._learn(target.ident, reply)
    if not reply:
        return 'SUCCEED: Already server has been SERVICEOUT.'
    return reply.get('reply', ERR_NOT_ALLOWED)


def command(proc, line: str) -> str:
    """Return the full reply (with trailing newline) for one command."""
    cmd, _, arg = line.partition(' ')
    arg = arg.strip()
    upper = cmd.upper()
    server = proc.ring.is_server
    if upper == 'VERSION':
        return common.VERSION_LINE + '\n'
    if upper in ('SELFSTATUS', 'ALLSTATUS', 'DUMP'):
        with proc.lock:
            snap = snapshot(proc)
        func = {'SELFSTATUS': render.selfstatus,
                'ALLSTATUS': render.allstatus, 'DUMP': render.dump}[upper]
        return func(snap)
    if upper == 'TRACEVIEW':
        return 'ERROR: Now trace count is 0.\n'
    if upper == 'TRACE':
        if arg.lower() in ('enable', 'disable', 'yes', 'no', 'on', 'off'):
            return SUCCEED + '\n'
        return ERR_TRACE + '\n'
    if upper in ('MERGE', 'COMPMERGE', 'ABORTMERGE'):
        if not server:
            return 'SUCCEED: There no server on RING.\n'
        proc.refresh()  # decide on, and reach, every member as it is now
        if upper == 'MERGE':
            with proc.lock:
                refused = proc.ring.any_member_down()
            if not refused:
                proc.broadcast('merge')
        elif upper == 'ABORTMERGE' and proc.hung():
            pass  # the node hung in [Doing] ignores it (faults.py)
        else:
            proc.broadcast('compmerge' if upper == 'COMPMERGE' else 'abort')
        return SUCCEED + '\n'
    if upper in ('SERVICEIN', 'SUSPENDMERGE', 'NOSUSPENDMERGE',
                 'UPDATESTATUS') and not server:
        return ERR_SLAVE + '\n'
    if upper == 'SERVICEIN':
        with proc.lock:
            me = proc.my_state
            if (me.ring != 'OUT' or not me.up or me.suspend or me.action
                    or me.operate):
                return ERR_NOT_ALLOWED + '\n'
            me.ring, me.action, me.operate = 'IN', 'ADD', 'Pending'
            me.last = common.now_us()
        return SUCCEED + '\n'
    if upper == 'SERVICEOUT':
        return serviceout(proc, arg) + '\n'
    if upper in ('SUSPENDMERGE', 'NOSUSPENDMERGE'):
        proc.refresh()
        proc.broadcast('suspend' if upper == 'SUSPENDMERGE' else 'nosuspend')
        return SUCCEED + '\n'
    if upper == 'UPDATESTATUS':
        with proc.lock:
            proc.my_state.last = common.now_us()
        return SUCCEED + '\n'
    common.log('CHMPX-ERR', 'Processing(5636) : Unknown command(%s).' % cmd)
    return 'Unknown command(%s)\n' % cmd


def slow_reply(proc, cmd: str) -> None:
    """Hold the reply of ``cmd`` back if a slow_reply fault says so."""
    node = proc.conf.self_node
    fault = faults.take(
        'slow_reply', lambda f: str(f.get('command', '')).upper() == cmd,
        {'command': cmd, 'node': {'name': node.name,
                                  'ctlport': node.ctlport, 'cuk': node.cuk}})
    if fault is not None:
        time.sleep(float(fault.get('seconds', 0)))


class ControlHandler(socketserver.BaseRequestHandler):
    """One command per connection, then close (like chmpx)."""

    def handle(self) -> None:
        proc = self.server.chmpx
        sock = self.request
        sock.settimeout(10.0)
        data = b''
        try:
            while b'\n' not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        except OSError:
            return
        if not data:
            common.log('CHMPX-ERR', 'RawReceiveAny(784) : Receive 0 byte '
                       'from sock(%d), it means socket is closed.'
                       % sock.fileno())
            return
        line = data.split(b'\n', 1)[0].decode('utf-8', 'replace')
        reply = command(proc, line.rstrip('\r'))
        slow_reply(proc, line.split(' ', 1)[0].strip().upper())
        try:
            sock.sendall(reply.encode())
        except OSError:
            pass


class PeerHandler(socketserver.BaseRequestHandler):
    """Persistent JSON-lines connection from another chmpx."""

    def handle(self) -> None:
        proc = self.server.chmpx
        reader = common.LineReader(self.request)
        while True:
            try:
                msg = reader.read()
            except (OSError, ValueError):
                return
            if msg is None:
                return
            try:
                common.send_msg(self.request, proc.handle_peer(msg))
            except OSError:
                return


def at_eof(sock: socket.socket) -> bool:
    """Whether the peer of ``sock`` has closed it (nothing is read)."""
    if not select.select([sock], [], [], 0)[0]:
        return False
    try:
        return not sock.recv(1, socket.MSG_PEEK)
    except OSError:
        return True


class Attached:
    """The local k2hdkc's connection; chmpx sends requests down it."""

    def __init__(self, sock: socket.socket, reader, pid: int) -> None:
        self.sock = sock
        self.reader = reader
        self.pid = pid
        self.lock = threading.Lock()
        self.dead = False

    def call(self, req: dict, timeout: float) -> dict | None:
        with self.lock:
            if self.dead:
                return None
            try:
                self.sock.settimeout(timeout)
                common.send_msg(self.sock, req)
                reply = self.reader.read()
            except (OSError, ValueError):
                reply = None
            if reply is None:
                self.dead = True
            return reply

    def closed(self) -> bool:
        if not self.lock.acquire(blocking=False):
            return False
        try:
            if not self.dead and at_eof(self.sock):
                self.dead = True
            return self.dead
        finally:
            self.lock.release()


class LocalHandler(socketserver.BaseRequestHandler):
    """Unix-socket peer: a k2hdkc attaching, or a client (slave side)."""

    def handle(self) -> None:
        proc = self.server.chmpx
        sock = self.request
        reader = common.LineReader(sock)
        try:
            first = reader.read()
        except (OSError, ValueError):
            return
        if not first:
            return
        if first.get('op') == 'attach':
            att = Attached(sock, reader, int(first.get('pid', 0)))
            if not proc.ring.is_server or not proc.attached(att):
                common.send_msg(sock, {'err': 'cannot attach'})
                return
            common.send_msg(sock, {'ok': True})
            # notice the exit at once: it starts the SIGHUP crash window
            while not att.closed() and not proc.stop.is_set():
                if select.select([sock], [], [], 0.2)[0]:
                    time.sleep(0.02)  # data for a call in flight
            proc.detached(att)
            return
        msg = first
        from tests.standins.dataplane import router
        with proc.lock:
            proc.clients.add(sock)
        try:
            while msg is not None:
                try:
                    common.send_msg(sock, router.route(proc, msg))
                    msg = reader.read()
                except (OSError, ValueError):
                    return
        finally:
            with proc.lock:
                if sock in proc.clients:
                    proc.clients.discard(sock)
                    proc.client_left()
