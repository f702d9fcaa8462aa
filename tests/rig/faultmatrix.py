"""``python -m tests.rig matrix``: every step of grow and shrink x every
fault -> how the cluster ends.

One cell: a fresh 3-member cluster holding a data set written through
its client node; a grow 3 -> 4 or a shrink 3 -> 2 through the CLI; when
the taskmanager log shows the cell's step (its progress text), the
fault is injected with the rig's own means (a VM's agent killed and
started again, a chmpx or k2hdkc killed -- the guest's supervisor starts
it again --, a VM crashed for good, the K2HR3 stand-in answering 503 or
holding a request for a minute through the faults file, the
taskmanager SIGKILLed and started again, a VM lost with its disk and
network, a new member's Nova boot failing or hanging). At the merge
steps the stand-ins hold the merge (``hold_merge``, faults.py) until a
VM or process fault has gone in and the killed process is back, so the
fault lands during the merge. Then the cell waits for the
cluster task to end and reports: the topology that serves (old, new or
none), how many acknowledged keys read back, the seconds from the fault
to a serving ring with the task ended, and what ``instance show`` says.

A measurement, not a test: the CI subset (tests/functional/rig/
test_fault_matrix.py) asserts on a few cells; the README holds the table
of a full run.
"""

from __future__ import annotations

from collections.abc import Callable
import dataclasses
import os
import pathlib
import signal
import time
from typing import Any

from tests.rig import cli
from tests.rig import cluster
from tests.rig import launcher
from tests.rig import netns
from tests.rig import nova
from tests.rig import scenario
from tests.rig import state
from tests.rig import vm
from tests.standins.dataplane import faults
from trove_k2hdkc.k2hr3.errors import K2hr3Error

HEALTHY = 0x21


@dataclasses.dataclass(frozen=True)
class Step:
    """``op`` grow or shrink; the fault goes in when the taskmanager has
    logged ``marker`` ``count`` times; ``target`` is whose VM it hits:
    the new member, an existing one, or the leaver; ``hold``: the role
    (faults.py) whose merge the stand-ins hold until the fault is in."""

    op: str
    marker: str
    count: int
    target: str
    hold: str | None = None


STEPS: dict[str, Step] = {
    'grow:k2hr3-add': Step('grow', 'grow by', 1, 'existing'),
    'grow:boot': Step('grow', 'grow by', 1, 'new'),
    'grow:configure': Step('grow', 'grow: configure new nodes', 1, 'new'),
    'grow:start': Step('grow', 'grow: start new nodes', 1, 'new'),
    'grow:servicein': Step('grow', 'grow: service in', 1, 'new'),
    'grow:restart': Step('grow', 'grow: restart k2hdkc on', 2, 'existing'),
    'grow:merge': Step('grow', 'grow: merge', 1, 'existing', 'existing'),
    'grow:compmerge': Step('grow', 'grow: complete merge', 1, 'existing'),
    'grow:purge': Step('grow', ': prepare', 2, 'existing'),
    'shrink:serviceout': Step('shrink', 'shrink: service out', 1, 'leaver'),
    'shrink:restart': Step('shrink', 'shrink: restart k2hdkc on', 1,
                           'existing'),
    'shrink:merge': Step('shrink', 'shrink: merge', 1, 'existing',
                         'existing'),
    'shrink:compmerge': Step('shrink', 'shrink: complete merge', 1,
                             'existing'),
    'shrink:k2hr3-remove': Step('shrink', 'shrink: stop leaving nodes', 1,
                                'existing'),
    'shrink:purge': Step('shrink', ': prepare', 1, 'existing'),
}
FAULTS = ('agent', 'chmpx', 'k2hdkc', 'vm', 'vm-gone', 'k2hr3-5xx',
          'k2hr3-hang', 'taskmanager', 'boot-fail', 'boot-hang')
# Faults that exist at some steps only: a Nova boot happens only in grow.
ONLY = {'boot-fail': {'grow:boot'}, 'boot-hang': {'grow:boot'}}
# Faults a held merge waits for (the others are not about a VM or a
# process).
HOLDS = ('agent', 'chmpx', 'k2hdkc', 'vm', 'vm-gone', 'taskmanager')
KILLS = ('chmpx', 'k2hdkc')
AGENT_AWAY = 20.0
# ``fault@target`` in a cell hits another VM than the step's own
TARGETS = ('new', 'existing', 'leaver')
BOOT_MODE = {'boot-fail': 'fail', 'boot-hang': 'hang'}


@dataclasses.dataclass
class Result:
    step: str
    fault: str
    topology: str
    keys: str
    serving_after: float | None
    task: str
    status: str
    # processes killed or K2HR3 requests hit (None: not counted)
    hits: int | None = None
    # the merge was held while the fault went in
    held: bool = False

    def row(self) -> str:
        after = ('%.0f s' % self.serving_after
                 if self.serving_after is not None else 'not serving')
        return '| %s | %s | %s | %s | %s | %s |' % (
            self.step, self.fault, self.topology, self.keys, after,
            _short(self.status).replace('|', '/'))


def _short(text: str, head: int = 110, tail: int = 90) -> str:
    """A fault text fit for a table cell: its start (the step) and its
    end (the outcome)."""
    if len(text) <= head + tail + 5:
        return text
    return text[:head] + ' ... ' + text[-tail:]


HEADER = ('| step | fault | ends in | keys readable | serving after the '
          'fault | status says |\n|---|---|---|---|---|---|')


def _kill_in_vm(info: dict[str, Any], key: str, program: str) -> int:
    """SIGKILL every process of VM ``key`` running ``program``."""
    killed = 0
    for pid in netns.ns_pids(netns.ns_name(info['name'], key)):
        if program in _names(pid):
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
    return killed


K2HR3_KIND = {'k2hr3-5xx': 'k2hr3_fail', 'k2hr3-hang': 'k2hr3_hang'}


def inject(rig: Any, fault: str, key: str | None
           ) -> tuple[str, int | None]:
    """Put ``fault`` in, against VM ``key`` where it has one; what was
    done, for the table, and how many processes it killed (a K2HR3
    fault counts its hits later)."""
    info, root = rig.info, rig.state_dir
    path = root / faults.FILE_NAME
    if fault == 'k2hr3-5xx':
        faults.write(path, k2hr3_fail=faults.k2hr3_fail(503, times=8))
    elif fault == 'k2hr3-hang':
        faults.write(path, k2hr3_hang=faults.k2hr3_hang(60, times=1))
    elif fault == 'taskmanager':
        launcher.restart_taskmanager(info, kill=True)
    elif fault in BOOT_MODE:
        pass   # armed before the grow (``arm``)
    elif key is None:
        raise LookupError('no VM to inject %s into' % fault)
    elif fault == 'agent':
        vm.kill_agent(root, key)
        time.sleep(AGENT_AWAY)
        vm.start_agent(root, info, key)
    elif fault in KILLS:
        killed = _kill_in_vm(info, key, fault)
        return '%s (%d killed)' % (fault, killed), killed
    elif fault == 'vm':
        vm.crash(root, info['name'], key)
    elif fault == 'vm-gone':
        nova.lose(root, key)
    else:
        raise ValueError('unknown fault %s' % fault)
    return fault, None


def arm(rig: Any, step: Step, fault: str) -> None:
    """Faults set before the operation starts: a Nova boot that fails
    or hangs; the merge hold of a merge step."""
    path = rig.state_dir / faults.FILE_NAME
    if fault in BOOT_MODE:
        faults.write(path, nova_boot=faults.nova_boot(BOOT_MODE[fault]))
    elif step.hold and fault in HOLDS:
        faults.write(path, hold_merge=faults.hold_merge(step.hold))


def _held(path: pathlib.Path, before: int) -> bool:
    return any(e.get('fault') == 'hold_merge'
               for e in faults.events(path)[before:])


def _back(info: dict[str, Any], key: str, program: str,
          ip: str | None) -> bool:
    """``program`` runs again in VM ``key`` (its supervisor restarted it)
    and the node's own status shows it up and not [Suspend]."""
    def up() -> bool:
        if not any(program in _names(pid) for pid in netns.ns_pids(
                netns.ns_name(info['name'], key))):
            return False
        if ip is None:
            return True
        ring = scenario.views([ip]).get(ip) or []
        return any(name == ip and code & 0xF == 1 and not code & 0x10000
                   for name, code in ring)
    return bool(_wait(up, 60, 0.5))


def _names(pid: int) -> set[str]:
    try:
        argv = pathlib.Path('/proc/%d/cmdline' % pid).read_bytes()
    except OSError:
        return set()
    return {os.path.basename(a) for a in argv.decode(
        errors='replace').split('\0') if a}


def _hits(path: pathlib.Path, fault: str) -> int:
    kind = K2HR3_KIND.get(fault)
    return sum(e.get('fault') == kind for e in faults.events(path)) \
        if kind else 0


def _task(info: dict[str, Any], cid: str) -> str:
    return cli.openstack(info, 'database', 'cluster', 'show',
                         cid)['task_name']


def serving_ring(ips: list[str]) -> list[str]:
    """The IPs in service when the ring serves: every answering member
    agrees on which servers are SERVICE IN and sees each of them 0x21;
    [] when it does not serve."""
    views = scenario.views(ips)
    rings = set()
    for ring in views.values():
        if ring is None:
            continue
        in_ring = tuple(sorted((ip, code) for ip, code in ring
                               if code & 0xF0 == 0x20))
        rings.add(in_ring)
    if len(rings) != 1:
        return []
    ring = rings.pop()
    if not ring or any(code != HEALTHY for _, code in ring):
        return []
    return [ip for ip, _ in ring]


def _wait(check: Callable[[], Any], timeout: float,
          interval: float = 2.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def _vm_of(info: dict[str, Any], member: dict[str, Any] | None
           ) -> str | None:
    if not member or not member.get('ip'):
        return None
    try:
        return cluster.vm_key(info, member['ip'])
    except LookupError:
        return None


def _server_keys(rig: Any) -> set[str]:
    cloud = state.read_cloud(rig.state_dir)
    return {s['key'] for s in cloud['servers'].values()}


def _booting(rig: Any, before: set[str]) -> str | None:
    """The key of a VM created since ``before`` whose guest agent runs."""
    def find() -> str | None:
        for key in sorted(_server_keys(rig) - before):
            if vm.running(rig.state_dir, key):
                return key
        return None
    return _wait(find, 180, 0.2)


def _new_member(info: dict[str, Any], cid: str, old: set[str]
                ) -> dict[str, Any] | None:
    def find() -> dict[str, Any] | None:
        for m in cluster.instances(info, cid):
            if m['id'] not in old and m.get('ip'):
                return m
        return None
    return _wait(find, 120, 1.0)


def _status_text(info: dict[str, Any], cid: str) -> str:
    """Member statuses and the first fault text, shortened."""
    members = cluster.instances(info, cid)
    states = sorted({m.get('status', '?') for m in members})
    fault = next((' '.join(str(m['fault']).split()) for m in members
                  if m.get('fault')), '')
    return '%s%s' % ('/'.join(states), ('; ' + fault) if fault else '')


def run_cell(rig: Any, name: str, fault: str, keys: int = 300,
             end_timeout: float = 480) -> Result:
    step = STEPS[name]
    cell_fault = fault
    fault, _, who = fault.partition('@')
    if who:
        step = dataclasses.replace(step, target=who)
    info = rig.info
    cid_name = ('fm-%s-%s-%s' % (name.replace(':', '-'), fault, who)
                ).rstrip('-')[:40]
    loaded = scenario.load(rig, cid_name, 3, keys)
    cid = loaded.id
    try:
        before = cluster.instances(info, cid)
        old = {m['id'] for m in before}
        mark = cluster.taskmanager_log_mark(info)
        leaver = before[-1]
        path = rig.state_dir / faults.FILE_NAME
        events_before = len(faults.events(path))
        servers_before = _server_keys(rig)
        arm(rig, step, fault)
        if step.op == 'grow':
            cluster.grow(info, cid)
            want_new = 4
        else:
            cluster.shrink(info, cid, leaver['id'])
            want_new = 2
        cluster.wait_taskmanager_log(info, step.marker, mark, timeout=600,
                                     count=step.count)
        key = None
        if name == 'grow:boot' and fault in HOLDS:
            # the new VM as soon as its guest agent runs, before its
            # prepare ends: the CLI is too slow to catch that moment
            key = _booting(rig, servers_before)
            target = None
        elif step.target == 'new':
            target = _new_member(info, cid, old)
        elif step.target == 'leaver':
            target = leaver
        else:
            target = before[1]
        held = False
        if step.hold and fault in HOLDS:
            held = bool(_wait(lambda: _held(path, events_before), 60, 0.5))
            if not held:
                raise RuntimeError('the merge was not held within 60 s')
        hits = _hits(path, fault)
        started = time.monotonic()
        key = key or _vm_of(info, target)
        done, killed = inject(rig, fault, key)
        if held:
            if fault in KILLS and key is not None and killed:
                if not _back(info, key, fault, target.get('ip')):
                    done += '; not back within 60 s'
            # the merge goes on now
            faults.write(path)
            done += ', merge held'

        def ended() -> bool:
            try:
                return _task(info, cid) == 'NONE'
            except Exception:
                return False
        _wait(ended, end_timeout, 3.0)
        # what is left of a K2HR3 fault must not hit the checks below
        faults.write(path)
        if fault in K2HR3_KIND:
            killed = _hits(path, fault) - hits
            done = '%s (%d requests)' % (fault, killed)
        task = _task(info, cid)
        ips = [m['ip'] for m in cluster.instances(info, cid) if m.get('ip')]
        ring = _wait(lambda: serving_ring(ips), 120)
        after = time.monotonic() - started if ring and task == 'NONE' \
            else None
        topology = ('new (%d)' % len(ring) if len(ring) == want_new
                    else 'old (3)' if len(ring) == 3 and set(ring) == {
                        m['ip'] for m in before}
                    else ('%d members' % len(ring)) if ring
                    else 'not serving')
        keys_text = 'n/a'
        if ring:
            loaded.client.refresh()
            try:
                loaded.client.wait_ring(ring, timeout=60)
            except RuntimeError:
                pass
            report = loaded.check()
            keys_text = '%d/%d' % (report.readable, report.total)
        if who:
            done = done.replace(fault, cell_fault, 1)
        return Result(name, done, topology, keys_text, after, task,
                      _status_text(info, cid), killed, held)
    finally:
        faults.write(rig.state_dir / faults.FILE_NAME)
        try:
            if _task(info, cid) != 'NONE':
                # a task that never ended: what an operator would do
                cli.openstack(info, 'database', 'cluster', 'reset',
                              'status', cid, parse=False)
            scenario.delete(loaded)
        except Exception as exc:  # noqa: BLE001 - reported, next cell runs
            print('cell %s/%s: delete: %s' % (name, fault, exc), flush=True)


def applicable(step: str) -> list[str]:
    return [f for f in FAULTS if step in ONLY.get(f, (step,))]


def cells(spec: str) -> list[tuple[str, str]]:
    """``step:fault,...``; ``all`` (or a step or fault alone) expands."""
    out = []
    for item in spec.split(','):
        item = item.strip()
        if not item:
            continue
        if item == 'all':
            out += [(s, f) for s in STEPS for f in applicable(s)]
            continue
        op, _, rest = item.partition(':')
        step, _, fault = rest.partition(':')
        name = '%s:%s' % (op, step)
        steps = [name] if step else [s for s in STEPS
                                     if s.startswith(op + ':')]
        for s in steps:
            if s not in STEPS:
                raise ValueError('unknown step %s (known: %s)'
                                 % (s, ', '.join(STEPS)))
            for f in [fault] if fault else applicable(s):
                f, _, who = f.partition('@')
                if who and who not in TARGETS:
                    raise ValueError('unknown target %s (known: %s)'
                                     % (who, ', '.join(TARGETS)))
                if f not in FAULTS:
                    raise ValueError('unknown fault %s (known: %s)'
                                     % (f, ', '.join(FAULTS)))
                if f not in applicable(s):
                    raise ValueError('fault %s is not one of step %s (only '
                                     '%s)' % (f, s, ', '.join(ONLY[f])))
                out.append((s, f + ('@' + who if who else '')))
    return out


def run(state_dir: pathlib.Path, spec: str, keys: int) -> int:
    """Run the cells of ``spec`` on the rig that is up; print the
    table as it grows."""
    from tests.rig.fixture import RigHandle
    rig = RigHandle(info=state.rig_info(state_dir), state_dir=state_dir)
    print(HEADER, flush=True)
    for name, fault in cells(spec):
        try:
            result = run_cell(rig, name, fault, keys)
        except Exception as exc:  # noqa: BLE001 - a cell that broke
            print('| %s | %s | cell failed: %s | | | |'
                  % (name, fault, str(exc)[:200].replace('|', '/')),
                  flush=True)
            continue
        print(result.row(), flush=True)
    # Zero orphans after the matrix (doc/k2hr3-layout.md §6).
    try:
        left = cluster.k2hr3_orphans(rig.info)
    except K2hr3Error as exc:   # e.g. a real K2HR3 without Keystone
        print('K2HR3 objects no cluster owns after the matrix: not '
              'checked: %s' % exc, flush=True)
        return 0
    print('K2HR3 objects no cluster owns after the matrix: %s'
          % ('; '.join(left) or 'none'), flush=True)
    return 1 if left else 0
