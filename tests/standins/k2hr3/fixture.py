"""pytest fixture ``k2hr3_standin``: a started K2HR3 stand-in.

Use with ``from tests.standins.k2hr3.fixture import k2hr3_standin  #
noqa: F401``.  Function scope; stopped at teardown, which fails the test
if a thread or the listening socket survives.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.standins.k2hr3.server import K2hr3StandIn


@pytest.fixture
def k2hr3_standin() -> Iterator[K2hr3StandIn]:
    standin = K2hr3StandIn(host='127.0.0.1', port=0)
    standin.start()
    try:
        yield standin
    finally:
        standin.stop()
    leaks = standin.leaks()
    assert not leaks, 'K2HR3 stand-in leaked: %s' % leaks
