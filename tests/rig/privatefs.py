"""The AntPickax state folder each rig node (VM or client) keeps to itself.

Why: real chmpx puts its shared memory (``<GROUP>-<ctlport>.chmpx`` and
``.k2h``, ``.fullock``, ``.k2h_*``) in /var/lib/antpickax when that folder
exists and in /tmp otherwise. Every rig node has a private /tmp, but
/var/lib/antpickax is the host's as soon as anything on the host created
it (an AntPickax install, a real K2HR3). Then every member of a cluster
(same group, same control port) opens the SAME file: each chmpx backs up
the other's (``.chmpx.bup``), k2hdkc attaches to a foreign chmpx and no
member ever leaves ``[SERVICE OUT][Suspend]``. A real VM has that folder
to itself, so each rig node binds a folder of its own over it.
"""

from __future__ import annotations

import pathlib
import shlex

ANTPICKAX_STATE = '/var/lib/antpickax'


def bind_own_state(private: pathlib.Path,
                   shared: str = ANTPICKAX_STATE) -> str:
    """A shell line that binds ``private`` over ``shared`` in the node's
    mount namespace, if the host has ``shared`` (otherwise chmpx uses the
    node's private /tmp and nothing must be created on the host)."""
    src, dst = shlex.quote(str(private)), shlex.quote(shared)
    return 'if [ -d %s ]; then mount --bind %s %s; fi' % (dst, src, dst)
