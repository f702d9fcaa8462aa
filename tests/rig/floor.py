"""The floor of ``grow 3 -> 4``: the same data-plane change by hand.

Why: a Trove grow figure alone says nothing about how much of it is
Trove. Here the verified grow (doc/ring-procedures.md §3) is driven
directly on a local ring of the same data-plane programs the rig's VMs
run (``binaries``), with the same data set, so what Trove adds on top is
the difference. Needs no rig; a measurement, it asserts nothing about
the times. ``floor_ns`` runs it where real programs work.

A merge of the real programs can hang (doc/ring-procedures.md §8); the
floor then recovers as an operator following §8 would, and reports the
hangs and what they cost apart from the clean figures.
"""

from __future__ import annotations

import dataclasses
import pathlib
import sys
import tempfile
import time

from tests.rig import binaries
from tests.rig import dataset
from tests.standins.dataplane import harness
from trove_k2hdkc.cluster import ringstate
from trove_k2hdkc.cluster import watchdog

SERVERS = 4
START = 3
CTL_TRIES = 3
QUERIES = frozenset({'SELFSTATUS', 'ALLSTATUS', 'VERSION'})
# Commands whose lost reply is judged by the status they cause.
JUDGED = frozenset({'SERVICEIN', 'COMPMERGE'})
POLL = 0.2
# Seconds for an ABORTMERGE to bring every merging node back to Pending
# before the next node is tried (doc/ring-procedures.md §8).
ABORT_SETTLE = 10.0
# MERGE, MERGE after an abort, MERGE after restarting the stuck
# responders (doc/ring-procedures.md §8); a fourth hang fails the step.
MERGE_TRIES = 3
SUSPEND = 0x10000
# doc/ring-procedures.md §9 step 2: "wait until [Suspend], or about 2 s".
SUSPEND_WAIT = 2.0
# From k2hdkc start to Pending: the harness's own status wait.
RESTART_WAIT = 20.0
HANG_AFTER_MIN = 10.0


def hang_bound(keys: int) -> float:
    """Seconds without any status change that make a merge hung.

    A hung merge never moves again, while a healthy one changes some
    node's code (Pending -> Doing -> Done) every few seconds: the whole
    3 -> 4 grow of 10,000 keys on the real programs took 7.5 s. 10 s
    plus twice doc/ring-procedures.md §7's "1 s per 1,000 keys per
    member" keeps a healthy merge of any size clear of the bound (15 s
    at 10,000 keys), yet each hang costs the figure 15 s, not the
    product's 60-300 s ``merge_timeout``.
    """
    return HANG_AFTER_MIN + 2.0 * keys / 1000 / SERVERS


@dataclasses.dataclass(frozen=True)
class Hangs:
    """The merge hangs of one step: what each looked like, and the
    seconds from the first hung MERGE to the MERGE that finished
    (waiting out the bound, aborts, restarts)."""

    seen: tuple[str, ...] = ()
    lost: float = 0.0

    def __str__(self) -> str:
        if not self.seen:
            return 'no merge hang'
        return ('%d merge hang(s), %.1f s lost to them and their '
                'recovery: %s' % (len(self.seen), self.lost,
                                  '; '.join(self.seen)))


@dataclasses.dataclass(frozen=True)
class Floor:
    """Seconds of each step, and what the read-back found."""

    keys: int
    load: float        # writing the data set through the slave
    ring: float        # ring.grow until the slave sees 4 x 0x21
    read: float        # reading every key back
    purge: float       # doc/ring-procedures.md §5 purge of every member
    report: dataset.Report
    ring_hangs: Hangs = Hangs()     # included in ``ring``
    purge_hangs: Hangs = Hangs()    # included in ``purge``

    @property
    def clean_ring(self) -> float:
        """``ring`` without its hangs: an estimate of a grow that did not
        hang (the MERGE that finished, and every other step, stay)."""
        return self.ring - self.ring_hangs.lost

    @property
    def clean_purge(self) -> float:
        return self.purge - self.purge_hangs.lost

    @property
    def hung(self) -> bool:
        return bool(self.ring_hangs.seen or self.purge_hangs.seen)


class Ring(harness.LocalRing):
    """The harness's local ring, running the programs found on ``path``
    instead of always the stand-ins.

    ``base_port`` numbers the ports from there on, as the real captures
    did (28020...): real chmpx keeps a port in a signed 16-bit field, so
    the harness's ephemeral ports (above 32767) break it. Only for a
    network of the ring's own, where no port is taken.
    """

    def __init__(self, workdir, path: str, base_port: int | None = None,
                 hang_after: float = HANG_AFTER_MIN, **kwargs) -> None:
        super().__init__(workdir, **kwargs)
        self.path = path
        self.hang_after = hang_after
        self.hangs = Hangs()
        if base_port is not None:
            for n, node in enumerate(self.nodes + [self.slave]):
                node['port'] = base_port + 2 * n
                node['ctlport'] = base_port + 2 * n + 1

    def env(self, node: dict) -> dict:
        env = super().env(node)
        env['PATH'] = self.path
        return env

    def ctl(self, num, command: str) -> str:
        """Real chmpx 1.0.109 now and then resets a control connection
        it failed to register (it logs "AcceptCtlport: Failed to add
        socket"), before reading the command: sending it again is safe.
        It also left commands unanswered for 5 s: a status query is
        asked again, a JUDGED command is judged by the status."""
        try:
            return self._sent(num, command)
        except TimeoutError:
            if command not in JUDGED:
                raise
            return self._judged(num, command)

    def _sent(self, num, command: str) -> str:
        retry: tuple[type[OSError], ...] = (ConnectionResetError,)
        if command in QUERIES:
            retry += (TimeoutError,)
        for _ in range(CTL_TRIES - 1):
            try:
                return super().ctl(num, command)
            except retry:
                time.sleep(0.2)
        return super().ctl(num, command)

    def _judged(self, num, command: str) -> str:
        """SUCCEED once the status shows that a command whose reply never
        came took effect, as the product judges it (real chmpx left a
        SERVICEIN and a COMPMERGE unanswered for 5 s)."""
        if command == 'SERVICEIN':
            def took() -> bool:
                return self.self_code(num) == ringstate.ADD_PENDING
        else:
            def took() -> bool:
                return watchdog.merge_completed(self.codes(self.members))
        harness.wait_for(took, RESTART_WAIT,
                         '%s via %s (no reply) to take effect'
                         % (command, num))
        return 'SUCCEED\n'

    # -- doc/ring-procedures.md §8 by hand ---------------------------------

    def merge(self, via: int, expected: dict[int, int]) -> None:
        """MERGE via ``via`` until ``expected`` holds, recovering from
        hangs as §8 says: abort via a node that is not stuck and MERGE
        again; on a second hang also restart the stuck responders'
        k2hdkc; a third hang fails. Hangs land in ``self.hangs``."""
        nums = list(dict.fromkeys([*self.members, *expected]))
        want = {str(n): frozenset({c}) for n, c in expected.items()}
        started = resent = time.monotonic()
        seen: list[str] = []
        hung: dict[str, int | None] = {}
        for attempt in range(MERGE_TRIES):
            if attempt:
                via = self._recover(nums, via, hung, want,
                                    restart=attempt == MERGE_TRIES - 1)
                resent = time.monotonic()
            self._send_merge(via)
            hung = self._watch(nums, want) or {}
            if not hung:
                if seen:
                    self.hangs = Hangs(self.hangs.seen + tuple(seen),
                                       self.hangs.lost + resent - started)
                return
            seen.append(_describe(hung))
        raise AssertionError('merge via %s hung %d times, last: %s'
                             % (via, MERGE_TRIES, seen[-1]))

    def codes(self, nums: list[int]) -> dict[str, int | None]:
        """Each node's own code; None when its control port did not
        answer (a busy chmpx answers late: not yet a hang)."""
        codes: dict[str, int | None] = {}
        for num in nums:
            try:
                codes[str(num)] = self.self_code(num)
            except (OSError, IndexError):
                codes[str(num)] = None
        return codes

    def _send_merge(self, via: int) -> None:
        """A MERGE whose reply is late is judged by the status it
        causes (the watch); a refusal fails at once."""
        try:
            reply = self.ctl(via, 'MERGE')
        except OSError:
            return
        assert reply == 'SUCCEED\n', 'MERGE via %s: %r' % (via, reply)

    def _watch(self, nums: list[int], want: watchdog.Expected
               ) -> dict[str, int | None] | None:
        """None once ``want`` holds; the codes when no node's code
        changed for ``hang_after`` seconds before that."""
        last: dict[str, int] = {}
        since = time.monotonic()
        while True:
            codes = self.codes(nums)
            if watchdog.settled(codes, want):
                return None
            moved = {n: c for n, c in codes.items()
                     if c is not None and last.get(n) != c}
            if moved:
                last.update(moved)
                since = time.monotonic()
            elif time.monotonic() - since >= self.hang_after:
                return codes
            time.sleep(POLL)

    def _recover(self, nums: list[int], sender: int,
                 codes: dict[str, int | None],
                 want: dict[str, frozenset[int]], restart: bool) -> int:
        """ABORTMERGE, and with ``restart`` restart the stuck
        responders' k2hdkc; the node that took the abort (next MERGE
        goes there)."""
        stuck = [int(n) for n in watchdog.stuck_responders(codes,
                                                           str(sender))]
        via = self._abort(nums, codes, stuck, want)
        if restart:
            for num in stuck:
                self.restart_responder(num)
            # a restarted peer that was not merging joins the last MERGE
            want.update({str(n): frozenset({ringstate.DONE})
                         for n in stuck if str(n) not in want})
        return via

    def _abort(self, nums: list[int], codes: dict[str, int | None],
               stuck: list[int], want: watchdog.Expected) -> int:
        """ABORTMERGE via the first node, best first (not stuck, then
        not in Doing), after which every merging node is Pending."""
        def worse(num: int) -> tuple[bool, bool]:
            code = codes.get(str(num))
            return num in stuck, code is not None and code >> 12 & 0xF == 2
        pending = {n: watchdog.PENDINGS for n in want}
        for via in sorted(nums, key=worse):
            try:
                self.ctl(via, 'ABORTMERGE')
                harness.wait_for(
                    lambda: watchdog.settled(self.codes(nums), pending),
                    ABORT_SETTLE, 'Pending after ABORTMERGE via %s' % via)
                return via
            except (OSError, AssertionError):
                continue
        raise AssertionError('no node took ABORTMERGE: %s'
                             % _describe(self.codes(nums)))

    def restart_responder(self, num: int) -> None:
        """doc/ring-procedures.md §9 order, §8 escalation: stop k2hdkc,
        wait for [Suspend] (or 2 s), start it, wait for Pending. A
        k2hdkc that needed SIGKILL, or a new one that never gets there,
        is started again over a restarted chmpx."""
        killed = self.stop(num, 'k2hdkc') != 0
        for with_chmpx in (killed, True):
            self._await_suspend(num)
            if with_chmpx:
                self.stop(num, 'chmpx')   # exit 139 counts as stopped (§9)
                self.start_chmpx(num)
            self.start_k2hdkc(num)
            try:
                harness.wait_for(
                    lambda: self.self_code(num) in watchdog.PENDINGS,
                    RESTART_WAIT, 'node %s Pending' % num)
                return
            except AssertionError:
                if with_chmpx:
                    raise
                self.stop(num, 'k2hdkc')

    def _await_suspend(self, num: int) -> None:
        try:
            harness.wait_for(lambda: self.self_code(num) & SUSPEND,
                             SUSPEND_WAIT, 'node %s [Suspend]' % num)
        except AssertionError:
            pass


def _describe(codes: dict[str, int | None]) -> str:
    return ', '.join('node %s %s' % (n, ringstate.describe(c))
                     for n, c in sorted(codes.items()))


def load(run: dataset.Runner, data: dataset.DataSet) -> None:
    """Write (then delete) the data set through ``run``, every write
    checked."""
    dataset.write_batched(run, data.load_commands())


def _seconds(action) -> float:
    start = time.monotonic()
    action()
    return time.monotonic() - start


def measure(keys: int, path: str | None = None,
            workdir: pathlib.Path | None = None,
            base_port: int | None = None) -> Floor:
    """Bootstrap 3 of 4 local servers of the programs on ``path`` (default:
    the rig's choice, ``binaries.search_path``), load ``keys`` keys, then
    time the hand-driven grow, the read-back and the purge."""
    data = dataset.DataSet.make(keys)
    path = path if path is not None else binaries.search_path()
    with tempfile.TemporaryDirectory(prefix='k2floor-',
                                     dir=workdir) as tmp:
        with Ring(tmp, path, base_port, hang_after=hang_bound(keys),
                  servers=SERVERS) as ring:
            ring.bootstrap(START)
            loaded = _seconds(lambda: load(ring.linetool, data))
            ring.hangs = Hangs()
            grow = _seconds(lambda: ring.grow(SERVERS))
            grow_hangs, ring.hangs = ring.hangs, Hangs()
            box: dict[str, dataset.Report] = {}

            def read() -> None:
                box['report'] = dataset.check(
                    data, dataset.reader(ring.linetool))
            took = _seconds(read)
            purge = _seconds(ring.purge)
    return Floor(keys, loaded, grow, took, purge, box['report'],
                 grow_hangs, ring.hangs)


def show(floor: Floor) -> None:
    """The figures; a step that hit merge hangs is shown with its
    recovery, then without the time the hangs cost (an estimate)."""
    print('floor, %d keys (by hand, no Trove):' % floor.keys)
    rows = [('load keys', floor.load, None),
            ('grow 3 -> 4, ring converged', floor.ring, floor.ring_hangs),
            ('all keys readable', floor.read, None),
            ('purge', floor.purge, floor.purge_hangs)]
    for what, secs, hangs in rows:
        if hangs is None or not hangs.seen:
            print('  %-44s %7.1f s' % (what, secs))
            continue
        print('  %-44s %7.1f s' % (what + ' (with recovery)', secs))
        print('  %-44s %7.1f s' % (what + ' (hang time removed)',
                                   secs - hangs.lost))
        print('    %s' % hangs)
    if not floor.hung:
        print('  no merge hang')
    print('  read-back: %s' % floor.report)
    if floor.report.transient:
        print('  read only on a re-read: %s' % ', '.join(
            floor.report.transient))
    sys.stdout.flush()
