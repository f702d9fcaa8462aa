"""Errors of the guest agent branch.

Trove turns any exception of a guest RPC into ``GuestError`` with the
exception text, so each text says what failed and what to do -- and never
carries the role token.
"""

from __future__ import annotations

from trove_k2hdkc.exceptions import K2hdkcError


class GuestNodeError(K2hdkcError):
    """A node operation failed on this guest."""


class NotConfiguredError(GuestNodeError):
    """configure_node has not stored K2HR3 access or an INI yet."""


class ConfigFetchError(GuestNodeError):
    """The rendered INI could not be read from K2HR3 (retry later)."""


class ConfigRefusedError(GuestNodeError):
    """The rendered INI failed validation; the live INI was kept."""


class UntrustedConfigError(ConfigRefusedError):
    """The INI holds a value this guest does not vouch for (a file outside
    its data directory, another cluster's GROUP, a foreign port, a plugin
    library): refused before anything was renamed, written or started
    (doc/k2hr3-layout.md §5)."""


class RuntimeStartError(GuestNodeError):
    """chmpx or k2hdkc did not start or did not reach the wanted state."""


class RuntimeStopError(GuestNodeError):
    """chmpx or k2hdkc did not stop."""


class ReplicationNotSupported(K2hdkcError):
    """Trove replicas make no sense for K2HDKC (REPLICA does it)."""


class RejoinRefused(GuestNodeError):
    """The node may not merge itself back now: another server is not
    healthy (a procedure or another failure is in progress)."""
