"""Replay of the compact K2HR3 capture files in ``tests/data/k2hr3/``.

Each file holds ``about``, ``placeholders`` (token formats) and
``exchanges``: name, source (the fact it shows), method, target, token,
request body, status and JSON body, recorded from a real K2HR3 API 2.0.3
without headers.  They are replayed in order against one stand-in;
statuses and bodies must match.
"""

from __future__ import annotations

import json
import pathlib

from tests.contract.k2hr3_replay import Replay

DATA_DIR = pathlib.Path(__file__).resolve().parents[1] / 'data' / 'k2hr3'


def load(file_name: str) -> dict:
    return json.loads((DATA_DIR / file_name).read_text())


def names(file_name: str) -> list[str]:
    return [e['name'] for e in load(file_name)['exchanges']]


class BodyReplay(Replay):
    """Status and body only: the compact captures kept no headers."""

    def _check_headers(self, expected: dict, actual: dict,
                       problems: list[str]) -> None:
        return None


def as_exchange(entry: dict) -> dict:
    """The data file's compact form -> ``Replay.check``'s form."""
    headers = {'x-auth-token': entry['token']} if 'token' in entry else {}
    body = entry.get('request_body')
    if body is not None:
        headers['content-type'] = 'application/json'
    return {'request': {'method': entry['method'], 'target': entry['target'],
                        'headers': headers, 'body': body},
            'response': {'status': entry['status'], 'headers': {},
                         'body_type': 'empty' if entry['body'] is None
                         else 'json', 'body': entry['body']}}


def replay(file_name: str, port: int) -> dict[str, list[str]]:
    """Every exchange of the file, in order, on the stand-in at ``port``:
    exchange name -> mismatches found."""
    data = load(file_name)
    player = BodyReplay(data['placeholders'], '127.0.0.1', port)
    try:
        return {e['name']: player.check(as_exchange(e))
                for e in data['exchanges']}
    finally:
        player.close()
