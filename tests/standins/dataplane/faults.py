"""Faults of the real chmpx/k2hdkc that the stand-ins reproduce on demand.

Why: real chmpx 1.0.109 / k2hdkc 1.0.16 merges hang in ``[Doing]`` and
answer MERGE slowly (doc/ring-procedures.md §8), and the product must
survive both; a test can only prove that if the stand-ins fail the same
way when it asks them to.  (The chmpx SIGHUP crash of §9 is not a fault:
the chmpx stand-in always models it, see ``chmpx_main``.)

Where the faults live
---------------------
A JSON file named by ``$K2HDKC_STANDIN_FAULTS``; chmpx reads it at each
merge start and each control-port command, so a test may write, change
or remove it at any time (no file, or no variable: no fault).  One file
may serve a whole ring: ``times`` is counted down under ``flock`` across
processes.

* ``harness.LocalRing`` points every node at ``ring.faults_path``.
* The rig's VMs (tests/rig/vm.py ``guest_env``) get
  ``<state_dir>/k2hdkc-standin-faults.json``: a rig test writes
  ``faults.write(rig.state_dir / faults.FILE_NAME, ...)``.  The state dir
  is outside /tmp, so every VM (a mount namespace) sees the same file.

Schema (every key optional)::

    {"hang_merge": {"role": "joining|existing|purging|any",
                    "times": 1, "clears": "abort|restart",
                    "stubborn": false},
     "slow_reply": {"command": "MERGE", "seconds": 7, "times": 1},
     "hold_merge": {"role": "joining|existing|purging|any"},
     "events": [...]}

``times`` (default 1) is how often the fault fires; the entry is removed
when it reaches 0.  ``events`` is appended by the stand-ins: one record
per firing, e.g. ``{"fault": "hang_merge", "role": "joining",
"requester": {"name", "ctlport", "cuk"}, "responder": {...}}``.

hang_merge: the stand-in's meaning of "stuck responder"
-------------------------------------------------------
A merging node pulls its new range from other nodes (its *responders*).
The fault fires on the merge of a node whose role matches:

* ``joining``: the node is ``[ADD]`` (a grow's new node);
* ``existing``: the node is ``[n/a]`` and the ring's membership changes
  (the old members of a grow or shrink);
* ``purging``: the node is ``[n/a]`` and membership does not change (a
  node refilling itself, doc/ring-procedures.md §5);
* ``any``: any of these.  A ``[DELETE]`` node pulls nothing and never
  hangs; nor does a merge with no responder up.

The node's first responder (first source in SVRNODE order) becomes the
*stuck responder*: the pull sent to it never returns, so the requester
stays ``[Doing]`` (0x2121 joining, 0x2021 otherwise) for ever while every
other node finishes (0x3021 / 0x3121), as on the real ring.  Then:

* ABORTMERGE sent to the hung requester's own control port replies
  ``SUCCEED`` and changes nothing;
* ABORTMERGE via any other node returns every node to ``[Pending]``
  (``[DELETE][Pending]`` becomes ``[n/a][Pending]``), which ends the hang;
* ``clears: "abort"`` (default): only that merge hangs; the next MERGE
  (if ``times`` is spent) completes.
* ``clears: "restart"``: the stuck responder's k2hdkc stays wedged for
  that requester: every later merge of the requester hangs on it again,
  until that k2hdkc is restarted; after an ABORTMERGE via another node
  and the restart, the next MERGE completes with every key.
* ``stubborn: true`` (with ``restart``): the wedged k2hdkc also ignores
  SIGHUP (only SIGKILL stops it) and its chmpx accepts no new k2hdkc
  until chmpx itself is restarted (doc/ring-procedures.md §8).
* ``clears: "requester"``: the hang is the requester's own, as in real
  chmpx 1.0.109: its merge worker fails to read its own k2hdkc's last
  update time, exits, and leaves the node in ``[Doing]`` (0x2021 /
  0x2121) for ever while the others finish; nothing is wedged, so
  ABORTMERGE on any node, the requester's own included, returns every
  node to ``[Pending]``.  The first firing pins the fault to that
  requester (``pinned``); each later merge of it hangs again while
  ``times`` lasts, and a restart of THAT node's k2hdkc removes the
  fault at once (its event: ``"cleared_by": "restart"``).  So
  ABORTMERGE + MERGE frees the node once ``times`` is spent, a restart
  of any other node's k2hdkc never does.

slow_reply
----------
The named control-port command (case-insensitive) takes effect at once,
but its reply is written only ``seconds`` later (the real purge MERGE
took more than 5 s to answer).

hold_merge
----------
Not a fault of the real programs but a test's gate: a merging node whose
role matches (as for hang_merge) stays in ``[Doing]`` before it pulls,
for as long as the entry is in the file (it is never counted down; the
test removes it), then merges normally.  Each held node records one
event.  A stand-in merge takes milliseconds, so without the gate a fault
meant for "during the merge" (a process killed, tests/rig/faultmatrix.py)
lands after it; the real merge of a large data set takes tens of seconds.

k2hr3_fail, k2hr3_hang (the K2HR3 API stand-in)
-----------------------------------------------
The rig's K2HR3 stand-in reads the same file at every request:
``{"k2hr3_fail": {"status": 503, "times": 4}}`` answers the next
``times`` requests with that status; ``{"k2hr3_hang": {"seconds": 60,
"times": 1}}`` holds the next ``times`` requests that long before it
answers them normally (a K2HR3 that hangs for a minute).

nova_boot (the rig's Nova stand-in, tests/rig/nova.py)
------------------------------------------------------
``{"nova_boot": {"mode": "fail", "times": 1}}``: the next server created
goes to ``ERROR`` with a fault and never boots; ``"mode": "hang"``: it
stays ``BUILD`` for ever (its guest never starts).  Read from the rig's
state dir by path, not through ``$K2HDKC_STANDIN_FAULTS``.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
import contextlib
import fcntl
import json
import os
import pathlib

ENV = 'K2HDKC_STANDIN_FAULTS'
FILE_NAME = 'k2hdkc-standin-faults.json'
ROLES = ('joining', 'existing', 'purging', 'any')
KINDS = ('hang_merge', 'slow_reply', 'hold_merge', 'k2hr3_fail',
         'k2hr3_hang', 'nova_boot')
BOOT_MODES = ('fail', 'hang')
CLEARS = ('abort', 'restart', 'requester')


def hang_merge(role: str = 'any', times: int = 1, clears: str = 'abort',
               stubborn: bool = False) -> dict:
    if role not in ROLES or clears not in CLEARS or times < 1:
        raise ValueError('bad hang_merge fault')
    if stubborn and clears != 'restart':
        raise ValueError('stubborn needs clears="restart"')
    return {'role': role, 'times': times, 'clears': clears,
            'stubborn': stubborn}


def hold_merge(role: str = 'any') -> dict:
    if role not in ROLES:
        raise ValueError('bad hold_merge fault')
    return {'role': role}


def nova_boot(mode: str = 'fail', times: int = 1) -> dict:
    if mode not in BOOT_MODES or times < 1:
        raise ValueError('bad nova_boot fault')
    return {'mode': mode, 'times': times}


def k2hr3_fail(status: int = 503, times: int = 4) -> dict:
    if not 500 <= status <= 599 or times < 1:
        raise ValueError('bad k2hr3_fail fault')
    return {'status': status, 'times': times}


def k2hr3_hang(seconds: float = 60.0, times: int = 1) -> dict:
    if seconds < 0 or times < 1:
        raise ValueError('bad k2hr3_hang fault')
    return {'seconds': seconds, 'times': times}


def slow_reply(command: str = 'MERGE', seconds: float = 7.0,
               times: int = 1) -> dict:
    if seconds < 0 or times < 1:
        raise ValueError('bad slow_reply fault')
    return {'command': command.upper(), 'seconds': seconds, 'times': times}


@contextlib.contextmanager
def _locked(path: pathlib.Path) -> Iterator[dict]:
    """The file's content, written back when the block ends."""
    with open(str(path) + '.lock', 'a') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            data = {}
        before = json.dumps(data, sort_keys=True)
        yield data
        if json.dumps(data, sort_keys=True) != before:
            tmp = path.with_name(path.name + '.tmp')
            tmp.write_text(json.dumps(data, indent=1))
            os.replace(tmp, path)


def write(path: os.PathLike, **faults: dict) -> None:
    """Replace the faults in ``path`` (events are kept), e.g.
    ``write(p, hang_merge=hang_merge('joining'))``; no faults clears."""
    path = pathlib.Path(path)
    with _locked(path) as data:
        for kind in KINDS:
            data.pop(kind, None)
        data.update(faults)


def events(path: os.PathLike) -> list[dict]:
    try:
        return json.loads(pathlib.Path(path).read_text()).get('events', [])
    except (OSError, ValueError):
        return []


def configured() -> pathlib.Path | None:
    """The faults file of this stand-in process, if any."""
    value = os.environ.get(ENV)
    return pathlib.Path(value) if value else None


def take(kind: str, applies: Callable[[dict], bool],
         event: dict | None = None,
         path: pathlib.Path | None = None) -> dict | None:
    """Fire fault ``kind`` once if it is configured (in ``path``, else
    the file this process is configured with) and ``applies``: count
    its ``times`` down, record ``event``; return the fault."""
    path = path or configured()
    if path is None or not path.exists():
        return None
    with _locked(path) as data:
        fault = data.get(kind)
        if not isinstance(fault, dict) or not applies(fault):
            return None
        left = int(fault.get('times', 1)) - 1
        if left > 0:
            fault['times'] = left
        else:
            del data[kind]
        data.setdefault('events', []).append(
            dict(event or {}, fault=kind))
        return dict(fault)


def pin(kind: str, who: dict, path: pathlib.Path | None = None) -> None:
    """Tie fault ``kind`` (if still configured) to requester ``who``."""
    path = path or configured()
    if path is None or not path.exists():
        return
    with _locked(path) as data:
        fault = data.get(kind)
        if isinstance(fault, dict):
            fault['pinned'] = dict(who)


def unpin_requester(who: dict, path: pathlib.Path | None = None) -> None:
    """A k2hdkc of node ``who`` started: drop the ``hang_merge`` fault
    pinned to that node as its requester (``clears: "requester"``)."""
    path = path or configured()
    if path is None or not path.exists():
        return
    with _locked(path) as data:
        fault = data.get('hang_merge')
        if (isinstance(fault, dict) and fault.get('clears') == 'requester'
                and _same_node(fault.get('pinned'), who)):
            del data['hang_merge']
            data.setdefault('events', []).append(
                {'fault': 'hang_merge', 'cleared_by': 'restart',
                 'requester': dict(who)})


def _same_node(pinned: object, who: dict) -> bool:
    return (isinstance(pinned, dict)
            and (pinned.get('name'), pinned.get('ctlport'))
            == (who.get('name'), who.get('ctlport')))


def pinned_to(fault: dict, who: dict) -> bool:
    """Whether ``fault`` may fire for requester ``who``: not pinned, or
    pinned to it."""
    return fault.get('pinned') is None or _same_node(fault['pinned'], who)


def present(kind: str, applies: Callable[[dict], bool]) -> bool:
    """Whether fault ``kind`` is configured and ``applies``, without
    counting it down (``hold_merge`` lasts until the test removes it)."""
    path = configured()
    if path is None or not path.exists():
        return False
    try:
        fault = json.loads(path.read_text()).get(kind)
    except (OSError, ValueError):
        return False
    return isinstance(fault, dict) and applies(fault)


def record(event: dict) -> None:
    """Append ``event`` to the file's events."""
    path = configured()
    if path is None:
        return
    with _locked(path) as data:
        data.setdefault('events', []).append(dict(event))
