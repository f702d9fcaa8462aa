"""Replay helper for the K2HR3 captures (``exchanges.json``).

Placeholder values (tokens, registerpaths) are learned from the stand-in's
replies where the capture shows a placeholder, and substituted into later
requests and expected replies.  Only random or time-based values are
normalised: placeholders (format-checked against placeholders.json) and
``date``/``expire`` pairs (format and difference checked).
"""

from __future__ import annotations

import datetime
import http.client
import json
import pathlib
import re
from typing import Any

PLACEHOLDER = re.compile(r'<[A-Z0-9_]+>')
ISO = re.compile(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$')
HEX = re.compile(r'[0-9a-f]+$')
URL_B64 = re.compile(r'(?:[A-Za-z0-9]|%2B|%2F|%3D)+$')


def load(reference_dir: pathlib.Path) -> tuple[list[dict], dict]:
    base = reference_dir / 'k2hr3'
    exchanges = json.loads((base / 'exchanges.json').read_text())
    formats = json.loads((base / 'placeholders.json').read_text())
    return exchanges, formats


def _iso_seconds(text: str) -> float:
    stamp = datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%S.%fZ')
    return stamp.replace(tzinfo=datetime.UTC).timestamp()


def describe(got: Any, want: Any) -> str:
    """Short mismatch text; long strings show the first difference."""
    if isinstance(got, str) and isinstance(want, str) and len(want) > 80:
        pairs = enumerate(zip(got, want, strict=False))
        at = next((i for i, (a, b) in pairs if a != b),
                  min(len(got), len(want)))
        return 'differs at %d: %r != %r' % (at, got[max(0, at - 30):at + 30],
                                            want[max(0, at - 30):at + 30])
    return '%r != %r' % (got, want)


class Replay:
    def __init__(self, formats: dict, host: str, port: int) -> None:
        self.formats = formats
        self.values: dict[str, str] = {}
        self.conn = http.client.HTTPConnection(host, port, timeout=10)

    def close(self) -> None:
        self.conn.close()

    # -- substitution ----------------------------------------------------
    def sub(self, value: Any) -> Any:
        if isinstance(value, str):
            return PLACEHOLDER.sub(lambda m: self.values.get(
                m.group(0), m.group(0)), value)
        if isinstance(value, list):
            return [self.sub(v) for v in value]
        if isinstance(value, dict):
            return {self.sub(k): self.sub(v) for k, v in value.items()}
        return value

    # -- one exchange ----------------------------------------------------
    def send(self, request: dict) -> tuple[int, dict, bytes]:
        headers = self.sub(request['headers'])
        body = request['body']
        if isinstance(body, (dict, list)):
            data = json.dumps(self.sub(body)).encode()
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = None
        self.conn.request(request['method'], self.sub(request['target']),
                          body=data, headers=headers)
        response = self.conn.getresponse()
        raw = response.read()
        return (response.status,
                {k.lower(): v for k, v in response.getheaders()}, raw)

    def check(self, exchange: dict) -> list[str]:
        """Replay one exchange; return the mismatches found."""
        expected = exchange['response']
        status, headers, raw = self.send(exchange['request'])
        problems: list[str] = []
        if status != expected['status']:
            problems.append('status %s != %s' % (status, expected['status']))
        if expected['body_type'] == 'empty':
            if raw:
                problems.append('body not empty: %r' % raw[:200])
        else:
            try:
                actual = json.loads(raw)
            except ValueError:
                return problems + ['body is not JSON: %r' % raw[:200]]
            self.compare(expected['body'], actual, 'body', problems)
            self._check_length(expected, raw, problems)
        self._check_headers(expected['headers'], headers, problems)
        return problems

    def _check_length(self, expected: dict, raw: bytes,
                      problems: list[str]) -> None:
        """Bodies without placeholders must have the original length
        (the real server writes compact JSON)."""
        length = expected['headers'].get('content-length')
        if length is None or PLACEHOLDER.search(json.dumps(
                expected['body'])):
            return
        if int(length) != len(raw):
            problems.append('content-length %d != %s' % (len(raw), length))

    def _check_headers(self, expected: dict, actual: dict,
                       problems: list[str]) -> None:
        for name in ('content-type', 'x-k2hr3-error'):
            want = expected.get(name)
            want = None if want is None else self.sub(want)
            if actual.get(name) != want:
                problems.append('header %s %r != %r'
                                % (name, actual.get(name), want))

    # -- body comparison -------------------------------------------------
    def compare(self, want: Any, got: Any, where: str,
                problems: list[str]) -> None:
        if isinstance(want, str) and PLACEHOLDER.fullmatch(want):
            self._learn(want, got, where, problems)
        elif isinstance(want, dict):
            self._compare_dict(want, got, where, problems)
        elif isinstance(want, list):
            self._compare_list(want, got, where, problems)
        elif self.sub(want) != got or type(want) is not type(got):
            problems.append('%s: %s' % (where, describe(got, self.sub(want))))

    def _compare_dict(self, want: dict, got: Any, where: str,
                      problems: list[str]) -> None:
        if not isinstance(got, dict):
            problems.append('%s: not an object: %r' % (where, got))
            return
        want = {self.sub(k): v for k, v in want.items()}
        if set(want) != set(got):
            problems.append('%s: keys %s != %s'
                            % (where, sorted(got), sorted(want)))
            return
        dated = {'date', 'expire'} <= set(want) and isinstance(
            want['date'], str)
        if dated:
            self._compare_dates(want, got, where, problems)
        for key, value in want.items():
            if not (dated and key in ('date', 'expire')):
                self.compare(value, got[key], '%s.%s' % (where, key),
                             problems)

    def _compare_dates(self, want: dict, got: dict, where: str,
                       problems: list[str]) -> None:
        for key in ('date', 'expire'):
            if not (isinstance(got[key], str) and ISO.match(got[key])):
                problems.append('%s.%s: not ISO: %r' % (where, key, got[key]))
                return
        span = _iso_seconds(want['expire']) - _iso_seconds(want['date'])
        got_span = _iso_seconds(got['expire']) - _iso_seconds(got['date'])
        if span != got_span:
            problems.append('%s: lifetime %s != %s' % (where, got_span, span))

    def _compare_list(self, want: list, got: Any, where: str,
                      problems: list[str]) -> None:
        if not isinstance(got, list) or len(got) != len(want):
            problems.append('%s: %r != %r' % (where, got, want))
            return
        if any(isinstance(w, str) and PLACEHOLDER.fullmatch(w)
               for w in want):
            # Lists of random tokens: the real order cannot be known.
            if sorted(self.sub(want)) != sorted(got):
                problems.append('%s: %r != %r' % (where, got, want))
            return
        for index, (w, g) in enumerate(zip(want, got, strict=True)):
            self.compare(w, g, '%s[%d]' % (where, index), problems)

    def _learn(self, name: str, got: Any, where: str,
               problems: list[str]) -> None:
        spec = self.formats.get(name)
        if spec is None or not isinstance(got, str):
            problems.append('%s: unknown placeholder %s / %r'
                            % (where, name, got))
            return
        if spec['charset'] == 'hex':
            ok = HEX.match(got) and len(got) == spec['length']
        else:
            # Re-encrypted on every call: the length varies by a few chars.
            ok = URL_B64.match(got) and abs(len(got) - spec['length']) <= 30
        if not ok:
            problems.append('%s: %r does not look like %s'
                            % (where, got, name))
        if name in self.values:
            if self.values[name] != got:
                problems.append('%s: %s changed' % (where, name))
        elif got in self.values.values():
            problems.append('%s: %s reuses another value' % (where, name))
        else:
            self.values[name] = got
