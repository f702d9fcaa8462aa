"""chmpx stand-in: control port, ring status exchange, merges, routing.

Why: the guest agent and the scaling procedures drive chmpx only through
its control port and INI file; this process reproduces those contracts
(tests/data/reference/README.md §4, doc/ring-procedures.md) on top of a
private peer protocol.  Servers listen on PORT for peers; every chmpx
listens on a unix socket ``<shmdir>/<GROUP>-<ctlport>.chmpx`` for its
k2hdkc (server) or for k2hdkclinetool (slave).
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import socketserver
import sys
import threading
import time
import uuid

from tests.standins.dataplane import common
from tests.standins.dataplane import control
from tests.standins.dataplane import faults
from tests.standins.dataplane import ini
from tests.standins.dataplane import peers
from tests.standins.dataplane import ring as ringmod
from tests.standins.dataplane import status as st

TICK = 0.1
#: Hello timeout of the synchronous refresh before a ring-wide command.
REFRESH_TIMEOUT = 2.0
#: How many ring command ids a node remembers to drop redelivered ones.
SEEN_CMDS = 256
#: Optional listen address (tests use 127.0.0.1); chmpx itself binds ANY.
BIND_ENV = 'K2HDKC_STANDIN_BIND'
#: chmpx 1.0.109 segfaults on SIGHUP within about 1 s of its last local
#: client detaching (doc/ring-procedures.md §9): a thread still checking
#: the detached client races with shutdown.  The stand-in's check lasts
#: the whole window and ends by setting [Suspend], so waiting for
#: [Suspend] (§9 step 2) avoids the crash here as it does on the real one.
#: Always modelled; the variable only changes the window (seconds; 0 =
#: no crash, [Suspend] at once).
SIGHUP_CRASH_ENV = 'K2HDKC_STANDIN_SIGHUP_CRASH_WINDOW'
SIGHUP_CRASH_WINDOW = 1.0


def crash_window() -> float:
    return float(os.environ.get(SIGHUP_CRASH_ENV) or SIGHUP_CRASH_WINDOW)


class _TCPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class _UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


class Chmpx:
    def __init__(self, conf: ini.Config, ctlport: int | None) -> None:
        self.conf = conf
        self.ctlport = ctlport
        self.ring = ringmod.Ring(conf)
        self.lock = threading.RLock()
        self.stop = threading.Event()
        self.links: dict[str, peers.PeerLink] = {}
        self.slaves_seen: dict[str, float] = {}
        self.suspend_automerge = False
        self.merge_gen = 0
        self.last_trigger = 0.0
        self.k2hdkc = None  # control.Attached
        self.start_time = int(time.time())
        self.start_us = common.now_us()
        self.shm_path = common.rendezvous_path(conf.group,
                                               conf.self_node.ctlport)
        self.stat = self._stat()
        self.names: dict[str, str] = {}
        self.servers: list = []
        self.done_cmds: dict[str, None] = {}  # insertion-ordered set
        self.hung_gen: int | None = None  # merge waiting on a stuck peer
        self.no_reattach = False  # a stubborn stuck k2hdkc was attached
        self.last_detach: float | None = None  # monotonic, last client
        self.clients: set[socket.socket] = set()  # line tools, slave side

    # -- helpers -----------------------------------------------------------

    def _stat(self):
        try:
            s = os.stat(self.conf.path)
            return (s.st_ino, s.st_mtime_ns, s.st_size)
        except OSError:
            return None

    def hostname(self, name: str) -> str:
        if name not in self.names:
            try:
                self.names[name] = socket.gethostbyaddr(name)[0]
            except OSError:
                self.names[name] = name
        return self.names[name]

    def link(self, node) -> peers.PeerLink:
        link = self.links.get(node.ident)
        if link is None or link.addr != (node.name, node.port):
            link = peers.PeerLink(node.name, node.port)
            self.links[node.ident] = link
        return link

    @property
    def my_state(self) -> st.State:
        return self.ring.states[self.ring.me]

    def others(self) -> list:
        me = self.ring.me if self.ring.is_server else None
        return [n for n in self.conf.servers if n.ident != me]

    # -- peer protocol -------------------------------------------------------

    def call_peer(self, node, obj: dict, timeout: float = 2.0):
        if node.ident == self.ring.me and self.ring.is_server:
            return self.handle_peer(obj)
        return self.link(node).call(obj, timeout)

    def refresh(self) -> None:
        """Poll every peer now, before a decision taken on the ring view.

        Why: the view is only as fresh as the last 0.1 s status exchange;
        on a loaded machine it can still miss a peer's SERVICEIN, or show
        a merely slow peer DOWN, and a one-shot MERGE decided on it (sent
        to "up" members only, refused while a member is down) was lost for
        good and the ring never left [Pending].
        """
        self.gossip(REFRESH_TIMEOUT)

    def broadcast(self, cmd: str, arg: str = '') -> None:
        """Deliver a ring command once to every responding server.

        The id makes redelivery (PeerLink retries a request whose reply
        was lost) idempotent: COMPMERGE applied twice would turn the
        ``[Pending]`` quirk into ``[Done]`` and then into ``[Nothing]``.
        """
        cid = uuid.uuid4().hex
        for node in self.conf.servers:
            with self.lock:
                state = self.ring.states.get(node.ident)
            if state is not None and state.up:
                reply = self.call_peer(node, {'op': 'ring', 'cmd': cmd,
                                              'arg': arg, 'id': cid})
                self._learn(node.ident, reply)

    def _take(self, ident: str, data: dict) -> None:
        """Store a peer's self-reported state (caller holds the lock).

        The peer owns its state, so the newest report simply wins; a
        report overtaken by a concurrent one is corrected by the next
        status exchange, 0.1 s later.
        """
        self.ring.states[ident] = st.State.from_dict(data)
        self.ring.seen.add(ident)

    def _learn(self, ident: str, reply) -> None:
        """Take a peer's self-reported state from any reply."""
        if not reply or not reply.get('state'):
            return
        with self.lock:
            if ident in self.ring.states and ident != self.ring.me:
                self._take(ident, reply['state'])

    def handle_peer(self, msg: dict) -> dict:
        op = msg.get('op')
        if op == 'hello':
            sender = msg.get('from', '')
            self._learn(sender, msg)
            with self.lock:
                if msg.get('slave'):
                    self.slaves_seen[sender] = time.monotonic()
                view = self.ring.states.get(sender)
                mine = self.my_state.to_dict() if self.ring.is_server \
                    else None
                return {'state': mine, 'down': self._down_states(),
                        'you': view.to_dict() if view else None}
        if op == 'ring':
            if self._first_delivery(msg.get('id')):
                self.ring_cmd(msg.get('cmd', ''), msg.get('arg', ''))
            with self.lock:
                return {'state': self.my_state.to_dict()
                        if self.ring.is_server else None}
        if op == 'serviceout':
            with self.lock:
                text = self.ring.serviceout(self.my_state)
                self.my_state.last = common.now_us()
                return {'reply': text, 'state': self.my_state.to_dict()}
        if op == 'data':
            return self.local_data(msg.get('req', {}))
        return {'err': 'unknown op'}

    def local_data(self, req: dict, timeout: float = 30.0) -> dict:
        att = self.k2hdkc
        with self.lock:
            suspended = self.my_state.suspend if self.ring.is_server \
                else True
        if att is None or suspended:
            return {'err': 'no k2hdkc attached'}
        reply = att.call(req, timeout)
        if reply is None:
            return {'err': 'k2hdkc gone'}
        if reply.get('stubborn'):
            self.no_reattach = True  # until chmpx restarts (faults.py)
        return reply

    # -- ring-wide commands ------------------------------------------------

    def _down_states(self) -> dict:
        """The states this server holds for down servers (caller holds
        the lock). A SERVICEOUT of a down server, and what MERGE and
        COMPMERGE make of it, reach every server and slave as status
        changes (chmpx's PxComSendStatusChange sends to the slaves too);
        in the stand-in the others learn them from the status exchange,
        since the down server cannot tell them."""
        if not self.ring.is_server:
            return {}
        return {ident: state.to_dict()
                for ident, state in self.ring.states.items()
                if not state.up and ident in self.ring.seen}

    def _take_down(self, states) -> None:
        """Adopt a peer's further-advanced state of a down server
        (caller holds the lock): [DELETE][Pending] after a SERVICEOUT,
        [DELETE][Done] after a MERGE, SERVICE OUT after COMPMERGE."""
        for ident, data in (states or {}).items():
            cur = self.ring.states.get(ident)
            new = st.State.from_dict(data)
            if (cur is not None and not cur.up and ident != self.ring.me
                    and ringmod.leave_rank(new) > ringmod.leave_rank(cur)):
                self.ring.states[ident] = new

    def _first_delivery(self, cid) -> bool:
        """False for a ring command id this node has already applied."""
        if not cid:
            return True
        with self.lock:
            if cid in self.done_cmds:
                return False
            self.done_cmds[cid] = None
            while len(self.done_cmds) > SEEN_CMDS:
                del self.done_cmds[next(iter(self.done_cmds))]
            return True

    def ring_cmd(self, cmd: str, arg: str) -> None:
        if not self.ring.is_server:
            return
        with self.lock:
            me = self.my_state
            if cmd == 'suspend':
                self.suspend_automerge = True
            elif cmd == 'nosuspend':
                self.suspend_automerge = False
            elif cmd == 'markout':
                cur = self.ring.states.get(arg)
                if cur is not None and not cur.up:
                    self.ring.serviceout_down(cur)
            elif cmd == 'compmerge':
                self.ring.compmerge(me)
                me.last = common.now_us()
                for ident, cur in self.ring.states.items():
                    if not cur.up and ident != self.ring.me:
                        self.ring.compmerge(cur)
            elif cmd == 'abort':
                self.merge_gen += 1
                self.ring.abort(me)
                me.last = common.now_us()
            elif cmd == 'merge':
                for cur in self.ring.states.values():
                    if (not cur.up and cur.action == 'DELETE'
                            and cur.operate == 'Pending'):
                        cur.operate = 'Done'  # a down leaver has nothing
                if me.operate == 'Pending' and not me.suspend:
                    me.operate = 'Doing'
                    me.last = common.now_us()
                    self.merge_gen += 1
                    threading.Thread(target=self.merge_worker,
                                     args=(self.merge_gen,),
                                     daemon=True).start()

    def merge_worker(self, gen: int) -> None:
        """Pull this node's new range like chmpx MergeWorkerFunc."""
        time.sleep(0.1)  # keeps [Doing] observable, as on the real ring
        with self.lock:
            me = self.my_state
            ring = self.ring
            rep = ring.conf.replica
            bval, pval = ring.hashes(ring.me)
            bcount = len(ring.base_list())
            pcount = len(ring.pending_list())
            exchange = bval != pval or bcount != pcount
            pull = me.action != 'DELETE' and pval != common.NOHASH
            role = ('joining' if me.action == 'ADD' else
                    'existing' if exchange else 'purging')
            if exchange:
                sources = [n for n in self.others()
                           if ring.states[n.ident].up
                           and not ring.states[n.ident].suspend
                           and ring.states[n.ident].action in ('', 'DELETE')]
            else:
                near = set(ring.neighbours(ring.me))
                sources = [n for n in self.others() if n.ident in near]
        if pull and pcount:
            req = {'op': 'getrange', 'from': ring.me,
                   'target': (pval - rep) % pcount, 'count': rep + 1,
                   'tmax': pcount,
                   'old': -1 if bval == common.NOHASH
                   else (bval - rep) % bcount,
                   'omax': bcount}
            if sources:
                self.held(role, gen)
            if sources and self.injected_hang(role, sources[0], req, gen):
                return
            self.pull(sources, req, gen)
        with self.lock:
            if gen == self.merge_gen and self.my_state.operate == 'Doing':
                self.my_state.operate = 'Done'
                self.my_state.last = common.now_us()

    def _who(self, node) -> dict:
        return {'name': node.name, 'ctlport': node.ctlport, 'cuk': node.cuk}

    def injected_hang(self, role: str, responder, req: dict,
                      gen: int) -> bool:
        """Apply a hang_merge fault (faults.py) to this merge; True if
        the merge hung and was aborted."""
        me = self._who(self.conf.self_node)
        fault = faults.take(
            'hang_merge', lambda f: f.get('role', 'any') in ('any', role)
            and faults.pinned_to(f, me),
            {'role': role, 'requester': me,
             'responder': self._who(responder)})
        if fault is None:
            return False
        if fault.get('clears') == 'requester':
            # chmpx MergeWorkerFunc: reading the own k2hdkc's last
            # update time failed; the worker exits, [Doing] stays
            common.log('CHMPX-ERR', 'injected fault: could not get last '
                       'update time from own k2hdkc; merge worker exits')
            faults.pin('hang_merge', me)
            return True
        common.log('CHMPX-ERR', 'injected fault: merge hangs on %s:%d'
                   % (responder.name, responder.ctlport))
        if fault.get('clears') == 'restart':
            wedge = {'stubborn': bool(fault.get('stubborn'))}
            self.call_peer(responder, {'op': 'data',
                                       'req': dict(req, wedge=wedge)})
        self.hang(gen)
        return True

    def held(self, role: str, gen: int) -> None:
        """Stay in [Doing] while a hold_merge gate (faults.py) for
        ``role`` is in the faults file, or until a new merge generation
        or exit."""
        def applies(fault: dict) -> bool:
            return fault.get('role', 'any') in ('any', role)
        if not faults.present('hold_merge', applies):
            return
        faults.record({'fault': 'hold_merge', 'role': role,
                       'requester': self._who(self.conf.self_node)})
        common.log('CHMPX', 'test gate: merge held in [Doing]')
        while (gen == self.merge_gen and not self.stop.wait(TICK)
               and faults.present('hold_merge', applies)):
            pass

    def hang(self, gen: int) -> None:
        """Wait for a pull that never returns: only a new merge
        generation (ABORTMERGE delivered by a peer) or exit ends it."""
        with self.lock:
            self.hung_gen = gen
        while gen == self.merge_gen and not self.stop.wait(TICK):
            pass
        with self.lock:
            if self.hung_gen == gen:
                self.hung_gen = None

    def hung(self) -> bool:
        """Whether this node's own merge waits on a stuck responder."""
        with self.lock:
            return self.hung_gen is not None \
                and self.hung_gen == self.merge_gen

    def pull(self, sources, req: dict, gen: int) -> None:
        got = self.local_data({'op': 'last_update'})
        req = dict(req, startts=int(got.get('last_update', 0))
                   if 'err' not in got else 0)
        for node in sources:
            if gen != self.merge_gen:
                return
            reply = self.call_peer(node, {'op': 'data', 'req': req}, 60.0)
            if reply and reply.get('wedged'):
                self.hang(gen)  # a stuck responder (faults.py)
                return
            if not reply or 'err' in reply:
                continue
            elems = reply.get('elements', [])
            if elems:
                self.local_data({'op': 'setelements', 'elements': elems})

    # -- k2hdkc / client attach -------------------------------------------

    def attached(self, att) -> bool:
        with self.lock:
            if self.k2hdkc is not None or self.no_reattach:
                return False
            self.k2hdkc = att
            if self.ring.is_server:
                me = self.my_state
                me.suspend = False
                if me.ring == 'IN' and not me.action and not me.operate:
                    me.operate = 'Pending'
                elif (me.ring == 'OUT' and self.conf.automerge
                      and not me.action):
                    me.ring, me.action, me.operate = 'IN', 'ADD', 'Pending'
                me.last = common.now_us()
            return True

    def detached(self, att) -> None:
        with self.lock:
            if self.k2hdkc is att:
                self.k2hdkc = None
                self.client_left()
                if self.ring.is_server:
                    check = threading.Timer(crash_window(),
                                            self.detach_checked)
                    check.daemon = True
                    check.start()

    def detach_checked(self) -> None:
        """The end of the check of a detached k2hdkc: [Suspend]."""
        with self.lock:
            if self.k2hdkc is None and self.ring.is_server:
                self.my_state.suspend = True
                self.my_state.last = common.now_us()

    # -- periodic work -------------------------------------------------------

    def gossip(self, timeout: float = 1.0) -> None:
        me = self.ring.me
        slave = not self.ring.is_server
        for node in self.others():
            with self.lock:
                mine = None if slave else self.my_state.to_dict()
            reply = self.link(node).call(
                {'op': 'hello', 'from': me, 'slave': slave, 'state': mine},
                timeout)
            with self.lock:
                if node.ident not in self.ring.states:
                    continue
                if reply and reply.get('state'):
                    self._take(node.ident, reply['state'])
                    self._take_down(reply.get('down'))
                else:
                    self.ring.mark_down(node.ident, common.now_us())

    def automerge(self) -> None:
        with self.lock:
            if (not self.ring.is_server or not self.conf.automerge
                    or self.suspend_automerge):
                return
            me = self.my_state
            states = [s for s in self.ring.states.values() if s.up]
            if time.monotonic() - self.last_trigger < 0.5:
                return
            cmd = None
            if (me.operate == 'Pending' and not me.suspend
                    and not self.ring.any_member_down()
                    and not any(s.operate == 'Doing' for s in states)):
                cmd = 'merge'
            elif me.operate == 'Done' and all(
                    s.operate in ('', 'Done') for s in states):
                cmd = 'compmerge'
            if cmd is None:
                return
            self.last_trigger = time.monotonic()
        self.broadcast(cmd)

    def check_reload(self) -> None:
        cur = self._stat()
        if cur == self.stat:
            return
        self.stat = cur
        try:
            conf = ini.load(self.conf.path, self.ctlport)
        except ini.ConfigError as exc:
            for line in exc.lines:
                common.log('CHMPX-ERR', line.split('] ', 1)[-1])
            common.log('CHMPX-ERR', 'CheckUpdate(652) : Failed to load '
                       'configuration from %s, thus this is fatal error.'
                       % self.conf.path)
            self.shutdown(0)
            return
        with self.lock:
            self.conf = conf
            self.ring.reconfigure(conf)
            self.suspend_automerge = False

    def loop(self) -> None:
        while not self.stop.wait(TICK):
            try:
                self.check_reload()
                self.gossip()
                att = self.k2hdkc
                if att is not None and att.closed():
                    self.detached(att)
                self.automerge()
            except Exception as exc:  # keep the daemon alive like chmpx
                common.log('CHMPX-ERR', 'loop: %r' % (exc,))

    # -- lifecycle -----------------------------------------------------------

    def learn_own_state(self) -> None:
        """A restarted member takes its ring status from its peers."""
        if not self.ring.is_server:
            return
        ring_in = False
        for node in self.others():
            reply = self.link(node).call(
                {'op': 'hello', 'from': self.ring.me, 'slave': False,
                 'state': None}, 1.0)
            if reply and reply.get('you') and reply['you']['ring'] == 'IN':
                ring_in = True
        self.ring.states[self.ring.me] = st.State(
            ring='IN' if ring_in else 'OUT', up=True, suspend=True,
            last=common.now_us())
        self.ring.seen.add(self.ring.me)

    def client_left(self) -> None:
        """A local client (k2hdkc, or a line tool on a slave) detached."""
        self.last_detach = time.monotonic()

    def notice_detaches(self) -> None:
        """Count a client that exited a moment ago but whose handler
        thread has not seen it yet: a detach is when the socket closed."""
        att = self.k2hdkc
        if att is not None and att.closed():
            self.detached(att)
        with self.lock:
            for sock in list(self.clients):
                if control.at_eof(sock):
                    self.clients.discard(sock)
                    self.client_left()

    def on_sighup(self) -> None:
        """Stop; or crash like chmpx 1.0.109 when a client detached less
        than the crash window ago: the parent sees SIGSEGV (-11, a shell
        139) and the unix socket stays behind."""
        self.notice_detaches()
        since = self.last_detach
        if since is not None and time.monotonic() - since < crash_window():
            sys.stdout.flush()
            sys.stderr.flush()
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no litter
            signal.signal(signal.SIGSEGV, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGSEGV)
        self.stop.set()

    def shutdown(self, code: int) -> None:
        try:
            os.unlink(self.shm_path)
        except OSError:
            pass
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    def banner(self) -> None:
        node = self.conf.self_node
        server = self.ring.is_server
        bval = self.ring.hashes(self.ring.me)[0] if server else common.NOHASH
        state = self.my_state if server else st.State(ring='SLAVE')
        sys.stdout.write(
            'CHMPX HOSTNAME            = %s\n' % self.hostname(node.name)
            + 'MODE                      = %s\n' % self.conf.mode
            + 'PORT                      = %d\n' % node.port
            + 'CONTROL PORT              = %d\n' % node.ctlport
            + 'SSL                       = NO\n'
            + 'BASE HASH                 = %016x\n' % bval
            + 'STATUS                    = %s\n\n' % state.words())
        sys.stdout.flush()

    def run(self) -> None:
        node = self.conf.self_node
        bind = os.environ.get(BIND_ENV, '0.0.0.0')
        ctl = _TCPServer((bind, node.ctlport), control.ControlHandler)
        ctl.chmpx = self
        servers = [ctl]
        if self.ring.is_server:
            peer = _TCPServer((bind, node.port), control.PeerHandler)
            peer.chmpx = self
            servers.append(peer)
        try:
            os.unlink(self.shm_path)
        except OSError:
            pass
        local = _UnixServer(self.shm_path, control.LocalHandler)
        local.chmpx = self
        servers.append(local)
        self.learn_own_state()
        up = [n for n in self.others() if self.ring.states[n.ident].up]
        if not up:
            common.log('CHMPX-ERR', 'ConnectRing(3983) : There is no '
                       'server UP on RING.')
        self.banner()
        for srv in servers:
            threading.Thread(target=srv.serve_forever, daemon=True).start()
        threading.Thread(target=self.loop, daemon=True).start()
        self.stop.wait()
        self.shutdown(0)


def main(argv: list[str] | None = None) -> int:
    conf_path, ctlport, _ = ini.command_line(argv)
    # chmpx blocks SIGTERM in every thread: the signal stays pending.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        if conf_path is None:
            raise ini.ConfigError([])
        conf = ini.load(conf_path, ctlport)
    except ini.ConfigError as exc:
        for line in exc.lines:
            common.log('CHMPX-ERR', line.split('] ', 1)[-1])
        common.log('CHMPX-ERR', 'CheckUpdate(652) : Failed to load '
                   'configuration from %s, thus this is fatal error.'
                   % conf_path)
        common.log('CHMPX-ERR', 'Initialize(201) : Failed to load '
                   'configuration from %s' % conf_path)
        sys.stderr.write('ERROR: Could not initialize process.\n'
                         'You can see detail about error, execute with '
                         '"-d" option.\n')
        return 1
    proc = Chmpx(conf, ctlport)
    signal.signal(signal.SIGHUP, lambda *_: proc.on_sighup())
    signal.signal(signal.SIGINT, lambda *_: proc.stop.set())
    proc.run()
    return 0
