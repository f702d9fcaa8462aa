"""The small interface the node service needs from a runtime.

Only process mechanics live behind it (start in order, stop in order with
SIGHUP, is each process alive, did it die on its own).  Everything that
talks to chmpx's control port stays in the service, so both runtimes share
one implementation of the status waits.
"""

from __future__ import annotations

from typing import Protocol

CHMPX = 'chmpx'
K2HDKC = 'k2hdkc'


class NodeRuntime(Protocol):
    """chmpx + k2hdkc of one node."""

    def start(self) -> None:
        """Start chmpx, wait for its control port, then start k2hdkc.
        Idempotent: running processes are kept (or adopted)."""

    def stop(self) -> None:
        """Stop k2hdkc then chmpx with SIGHUP (SIGKILL after a timeout);
        returns when both are gone.  Marks the node stopped on purpose."""

    def start_k2hdkc(self) -> None:
        """Start k2hdkc only (chmpx must run)."""

    def stop_k2hdkc(self) -> bool:
        """Stop k2hdkc only (SIGHUP; SIGKILL if it has not exited 10 s
        later, doc/ring-procedures.md §8); chmpx keeps running. False when
        it took SIGKILL: then chmpx must be restarted too
        (doc/ring-procedures.md §8)."""

    def restart_chmpx(self) -> None:
        """Stop chmpx and start it again with k2hdkc kept stopped; a
        SERVICE IN node's chmpx comes back [Suspend] (doc/ring-procedures.md
        §6)."""

    def restart_k2hdkc(self) -> None:
        """stop_k2hdkc + start_k2hdkc, without any status wait."""

    def running(self) -> dict[str, bool]:
        """``{'chmpx': bool, 'k2hdkc': bool}``."""

    def is_running(self) -> bool:
        """Both processes run."""

    def wanted(self) -> bool:
        """The node should run (not stopped on purpose): a dead process
        then means a crash."""

    def poke_shm(self, path: str) -> None:
        """Open and close chmpx's shm file where chmpx sees it
        (doc/ring-procedures.md §9)."""

    def resume(self) -> None:
        """At agent start: start again what should run but does not (a
        VM or agent restart), and supervise it."""

    def upgrade(self, version: str) -> None:
        """Stop the node and start it on datastore version ``version``."""

    def close(self) -> None:
        """Stop supervising (processes keep running)."""
