"""K2HDKC among trove-dashboard's cluster datastores.

trove-dashboard decides which datastores may launch, grow and shrink
clusters from two tuples in ``db_capability``, matched as substrings of
the datastore name; no setting changes them (doc/dashboard.md §1). Their
functions read the tuples at call time, so adding ``k2hdkc`` to them is
the whole change.
"""

from __future__ import annotations

DATASTORE = 'k2hdkc'
# db_capability's tuples: clusters may be launched / grown and shrunk.
TUPLES = ('_cluster_capable_datastores',
          '_cluster_grow_shrink_capable_datastores')


def is_k2hdkc(datastore: str | None) -> bool:
    """Whether trove-dashboard's substring match names K2HDKC."""
    return bool(datastore) and DATASTORE in str(datastore).lower()


def enable() -> None:
    """Add K2HDKC to both tuples (once)."""
    from trove_dashboard.content.databases import db_capability
    for name in TUPLES:
        current = getattr(db_capability, name, None)
        if not isinstance(current, tuple):
            raise RuntimeError(
                'trove-dashboard has no db_capability.%s tuple any more; '
                'this trove-k2hdkc cannot enable K2HDKC clusters in it '
                '(doc/dashboard.md §1).' % name)
        if DATASTORE not in current:
            setattr(db_capability, name, current + (DATASTORE,))
