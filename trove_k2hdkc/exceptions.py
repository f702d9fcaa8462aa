"""The plugin's exception tree.

Every error the plugin raises derives from ``K2hdkcError``; sub-packages add
their branches (``k2hr3.errors``, ``chmpx.errors``). Errors are mapped to
Trove exceptions only at the edges (API strategy, guest manager; the only
classes the plugin defines outside this tree are those Trove or webob types:
``cluster.faults``, ``cluster.guestagent.GuestSilent``), and their text
never carries a token or password.
"""

from __future__ import annotations


class K2hdkcError(Exception):
    """Base of all trove-k2hdkc errors."""
