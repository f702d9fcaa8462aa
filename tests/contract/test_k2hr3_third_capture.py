"""Contract: the K2HR3 stand-in follows the third capture (D1-D4).

``tests/data/k2hr3/third_capture.json`` holds exchanges with the real
K2HR3 API 2.0.3 where the stand-in used to be more lenient or tidier:
a resource a policy lists cannot be deleted (D1), a non-numeric member
port means "any" (D2), member strings keep empty fields (D3) and keys
never given read as null (D4).  The capture deletes all it creates.
"""

from __future__ import annotations

import pytest

from tests.contract import k2hr3_capture_file
from tests.standins.k2hr3 import K2hr3StandIn
from tests.standins.k2hr3.fixture import k2hr3_standin  # noqa: F401

FILE = 'third_capture.json'


@pytest.fixture
def replayed(k2hr3_standin: K2hr3StandIn  # noqa: F811
             ) -> dict[str, list[str]]:
    return k2hr3_capture_file.replay(FILE, k2hr3_standin.port)


@pytest.mark.parametrize('name', k2hr3_capture_file.names(FILE))
def test_exchange_matches_third_capture(replayed: dict[str, list[str]],
                                        name: str) -> None:
    assert replayed[name] == []


def test_every_difference_has_exchanges() -> None:
    sources = {e['source']
               for e in k2hr3_capture_file.load(FILE)['exchanges']}
    for fact in ('D1', 'D2', 'D3', 'D4'):
        assert any(fact in s for s in sources), fact


def test_capture_leaves_nothing_behind(
        k2hr3_standin: K2hr3StandIn,  # noqa: F811
        replayed: dict[str, list[str]]) -> None:
    snap = k2hr3_standin.snapshot('tenant0')
    assert (snap['resources'], snap['policies'], snap['roles']) == (
        [], [], [])
