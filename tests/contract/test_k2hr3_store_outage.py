"""Contract: the K2HR3 stand-in answers as the real K2HR3 does while
K2HR3's own K2HDKC store is down (``K2hr3StandIn.store_down``).

``tests/data/k2hr3/store_outage_capture.json`` holds the real exchanges:
the setup with the store up, then (``"phase": "store_down"``) a 401 "token
... is not existed" for every user or role token (O1) and a 404 login
(O2).  The replay turns the stand-in's store off where the capture's
phase begins; the delay is 0 here (the real one waits 17-38 s).
"""

from __future__ import annotations

import pytest
import requests

from tests.contract import k2hr3_capture_file
from tests.functional.k2hr3.helpers import make_client
from tests.standins.k2hr3 import K2hr3StandIn
from tests.standins.k2hr3.fixture import k2hr3_standin  # noqa: F401
from trove_k2hdkc.k2hr3 import K2hr3ConnectionError

FILE = 'store_outage_capture.json'
DOWN = 'store_down'


def _replay(standin: K2hr3StandIn, outage: bool,
            learned: dict[str, str] | None = None) -> dict[str, list[str]]:
    data = k2hr3_capture_file.load(FILE)
    player = k2hr3_capture_file.BodyReplay(data['placeholders'],
                                           '127.0.0.1', standin.port)
    found = {}
    try:
        for entry in data['exchanges']:
            if outage and entry.get('phase') == DOWN:
                standin.store_down()
            found[entry['name']] = player.check(
                k2hr3_capture_file.as_exchange(entry))
    finally:
        player.close()
    if learned is not None:
        learned.update(player.values)
    return found


@pytest.fixture
def replayed(k2hr3_standin: K2hr3StandIn  # noqa: F811
             ) -> dict[str, list[str]]:
    return _replay(k2hr3_standin, outage=True)


@pytest.mark.parametrize('name', k2hr3_capture_file.names(FILE))
def test_exchange_matches_store_outage_capture(
        replayed: dict[str, list[str]], name: str) -> None:
    assert replayed[name] == []


def test_capture_covers_both_facts_and_both_tokens() -> None:
    down = [e for e in k2hr3_capture_file.load(FILE)['exchanges']
            if e.get('phase') == DOWN]
    assert {e['source'] for e in down} == {'O1', 'O2'}
    assert {e['token'][:2] for e in down if 'token' in e} == {'U=', 'R='}
    assert all(e['status'] == 401 for e in down if 'token' in e)


def test_without_the_outage_the_capture_does_not_match(
        k2hr3_standin: K2hr3StandIn) -> None:  # noqa: F811
    """The O1/O2 answers are the outage's, not what a healthy K2HR3 (or
    stand-in) gives for the same requests."""
    found = _replay(k2hr3_standin, outage=False)
    down = {e['name'] for e in k2hr3_capture_file.load(FILE)['exchanges']
            if e.get('phase') == DOWN}
    assert all(found[name] for name in down)


def test_store_back_tokens_work_again(
        k2hr3_standin: K2hr3StandIn) -> None:  # noqa: F811
    """A store that comes back with its data (not the capture's in-memory
    one) makes the same tokens valid again."""
    tokens: dict[str, str] = {}
    _replay(k2hr3_standin, outage=True, learned=tokens)
    name = 'k2hdkc-e0000000-0000-4000-8000-0000000000e1'
    role = k2hr3_standin.url + '/v1/role/' + name

    def status() -> int:
        return requests.get(role, timeout=5, headers={
            'x-auth-token': 'U=' + tokens['<SCOPED_USER_TOKEN>']}
        ).status_code

    assert status() == 401
    k2hr3_standin.store_up()
    assert status() == 200


def test_a_client_that_waits_less_than_k2hr3_sees_no_reply(
        k2hr3_standin: K2hr3StandIn) -> None:  # noqa: F811
    """The real K2HR3 answers only after its store client gives up (17 s
    and more), so a client with a shorter timeout (the plugin's default
    ``k2hr3_timeout`` is 10 s) gets no reply at all, not the 401."""
    client = make_client(k2hr3_standin, timeout=0.2, retries=0)
    try:
        k2hr3_standin.store_down(delay=2.0)
        with pytest.raises(K2hr3ConnectionError, match='no reply'):
            client.token_info('0' * 64)
    finally:
        k2hr3_standin.store_up()
        client.close()
