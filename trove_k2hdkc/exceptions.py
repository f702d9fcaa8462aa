"""The plugin's exception tree.

Every error the plugin raises derives from ``K2hdkcError``; sub-packages add
their branches (``k2hr3.errors``, ``chmpx.errors``). Errors are mapped to
Trove exceptions only at the edges (API strategy, guest manager), and their
text never carries a token or password.
"""

from __future__ import annotations


class K2hdkcError(Exception):
    """Base of all trove-k2hdkc errors."""


class ClusterSpecError(K2hdkcError, ValueError):
    """A cluster request that cannot be honoured; the text says what to fix."""
