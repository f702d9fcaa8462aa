"""The ring model one chmpx keeps: every server's status and the hashes.

Why: placement and merge rules (doc/ring-procedures.md §1) are derived from
the status table alone, so keeping them in one pure object lets the chmpx
process, the slave router and the tests share one model:

* base hash = rank (sorted by CUSTOM_ID_SEED if CUSTOM, NAME, CTLPORT,
  CUK) among SERVICE IN servers that are not joining ([ADD]);
* pending hash = rank among SERVICE IN servers that are not leaving;
* a key's primary is ``FNV-1a64(key+NUL) % base count``; replicas are the
  next REPLICA base indices.
"""

from __future__ import annotations

from tests.standins.dataplane import common
from tests.standins.dataplane import status as st


class Ring:
    def __init__(self, conf) -> None:
        self.conf = conf
        self.states: dict[str, st.State] = {}
        self.seen: set[str] = set()
        self.reconfigure(conf)

    def reconfigure(self, conf) -> None:
        self.conf = conf
        old = self.states
        self.states = {}
        for node in conf.servers:
            self.states[node.ident] = old.get(
                node.ident, st.State(ring='OUT', up=False, last=0))

    @property
    def is_server(self) -> bool:
        return self.conf.mode == 'SERVER'

    @property
    def me(self) -> str:
        return self.conf.self_node.ident

    def node(self, ident: str):
        for node in self.conf.servers:
            if node.ident == ident:
                return node
        return None

    def _ordered(self, pred) -> list[str]:
        idtype = self.conf.idtype
        nodes = [n for n in self.conf.servers if pred(self.states[n.ident])]
        nodes.sort(key=lambda n: n.sort_key(idtype))
        return [n.ident for n in nodes]

    def base_list(self) -> list[str]:
        return self._ordered(lambda s: s.in_base)

    def pending_list(self) -> list[str]:
        return self._ordered(lambda s: s.in_pending)

    def hashes(self, ident: str) -> tuple[int, int]:
        base = self.base_list()
        pend = self.pending_list()
        bval = base.index(ident) if ident in base else common.NOHASH
        pval = pend.index(ident) if ident in pend else common.NOHASH
        return bval, pval

    def targets(self, key: bytes) -> list[str]:
        """Primary first, then replicas, by base hash."""
        base = self.base_list()
        if not base:
            return []
        idx = common.key_hash(key) % len(base)
        out: list[str] = []
        for i in range(self.conf.replica + 1):
            ident = base[(idx + i) % len(base)]
            if ident not in out:
                out.append(ident)
        return out

    def mark_down(self, ident: str, now_us: int) -> None:
        """A peer stopped answering: AUTOMERGE decides its fate. Without
        it the server stays as chmpx's ``CHANGE_CHMPXSTS_TO_DOWN``
        (chmstructure.h) leaves it: a leaver keeps [DELETE] (Pending, or
        Done once it merged: 0x1220/0x3220), a joining server drops out
        of the ring, any other stays [SERVICE IN][DOWN]."""
        cur = self.states.get(ident)
        if cur is None or not cur.up:
            return
        keep_in = (cur.ring == 'IN' and not self.conf.automerge
                   and cur.action != 'ADD')
        leaving = keep_in and cur.action == 'DELETE'
        self.states[ident] = st.State(
            ring='IN' if keep_in else 'OUT', up=False,
            action='DELETE' if leaving else '',
            operate=('Done' if cur.operate in ('Doing', 'Done')
                     else 'Pending') if leaving else '',
            last=now_us if ident in self.seen else 0)

    def any_member_down(self) -> bool:
        """A SERVICE IN server is down and not leaving: chmpx refuses
        MERGE (a down server being taken out does not count)."""
        return any(s.ring == 'IN' and not s.up and s.action != 'DELETE'
                   for s in self.states.values())

    @staticmethod
    def serviceout_down(state: st.State) -> None:
        """SERVICEOUT of a down SERVICE IN server, handled by the server
        that got it: [SERVICE IN][DOWN][DELETE][Pending] (0x1220,
        chmpx's CHMPXSTS_SRVIN_DOWN_DELPENDING). It keeps its base hash
        until COMPMERGE, so reads of its range fall back to replicas
        and the live servers merge the new layout among themselves."""
        if state.ring == 'IN' and not state.action:
            state.action, state.operate = 'DELETE', 'Pending'

    def operating(self) -> bool:
        return any(s.operate in ('Doing', 'Done')
                   for s in self.states.values() if s.up)

    def neighbours(self, ident: str) -> list[str]:
        base = self.base_list()
        if ident not in base:
            return [i for i in base if i != ident]
        me = base.index(ident)
        count = len(base)
        out = []
        for pos, other in enumerate(base):
            dist = min((pos - me) % count, (me - pos) % count)
            if other != ident and dist <= self.conf.replica:
                out.append(other)
        return out

    # -- transitions applied by the node that owns the state ---------------

    @staticmethod
    def compmerge(state: st.State) -> None:
        if state.operate == 'Done':
            if state.action == 'DELETE':
                state.ring = 'OUT'
            state.action = ''
            state.operate = ''
        elif state.operate == 'Pending' and state.action == '':
            state.operate = 'Done'  # captured quirk (scalein_manual_abort)

    @staticmethod
    def abort(state: st.State) -> None:
        if state.action == 'DELETE':
            state.action = ''
            state.operate = 'Pending'
        elif state.operate in ('Doing', 'Done'):
            state.operate = 'Pending'

    def serviceout(self, state: st.State) -> str:
        if state.ring != 'IN':
            return 'SUCCEED: Already server has been SERVICEOUT.'
        if self.operating() or state.operate in ('Doing', 'Done'):
            return ('ERROR: Could not change status, because server is '
                    'operating now.')
        if state.action == 'DELETE':
            return ('ERROR: Could not change status, because status is '
                    'not allowed.')
        if state.action == 'ADD':
            state.ring, state.action, state.operate = 'OUT', '', ''
            return 'SUCCEED'
        state.action, state.operate = 'DELETE', 'Pending'
        return 'SUCCEED'


def leave_rank(state: st.State) -> int:
    """How far a down server has got on its way out of the ring."""
    if state.ring == 'OUT':
        return 3
    if state.action == 'DELETE':
        return 2 if state.operate == 'Done' else 1
    return 0
