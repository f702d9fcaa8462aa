"""The stand-in's template engine on its own: the documented language
(K2HR3 k2hr3template) as far as it is implemented, and what it refuses."""

from __future__ import annotations

from typing import Any

import pytest

from tests.standins.k2hr3.k2hr3template import TemplateError
from tests.standins.k2hr3.k2hr3template import render


def _none(name: str) -> tuple[bool, Any]:
    return False, None


def run(text: str, **keys: Any) -> str:
    return render(text, keys, _none)[0]


@pytest.mark.parametrize(('text', 'keys', 'out'), [
    ('{{= %a% + 1 }}', {'a': 28020}, '28021'),
    ('{{= %a% + 1 }}', {'a': '28020'}, '280201'),     # left operand's type
    ('{{= 1 + %a% }}', {'a': '2'}, '3'),
    ('{{= 0x10 + 0b11 + 0o7 }}', {}, '26'),
    ('{{= (1 + 2) * 3 }}', {}, '9'),
    ('{{= 7 % 4 }}', {}, '3'),
    ('{{= "a\\"b" }}', {}, 'a"b'),
    ('{{= %x%.length }}', {}, '0'),                   # undefined counts 0
    ('{{= %l%.length }}{{= %l%[1] }}', {'l': [5, 6]}, '26'),
    ('{{ if 1 == 2 }}a{{ elif 2 == 2 }}b{{ else }}c{{ endif }}', {}, 'b'),
    ('{{ if !%x% && 1 }}y{{ endif }}', {}, 'y'),
    ('{{ foreach %k% in %o% }}{{= %k% }};{{ done }}', {'o': {'b': 1}}, 'b;'),
    ('{{# comment }}x', {}, 'x'),
    ('{{= true }} {{= null }}.', {}, 'true .'),
])
def test_documented_expressions(text: str, keys: dict, out: str) -> None:
    assert run(text, **keys) == out


def test_variables_and_unknown_names_end_up_in_keys() -> None:
    out, keys = render('{{ %v% = %k% + 1 }}[{{= %nope% }}]', {'k': 1},
                       _none)
    assert out == '[]'
    assert keys == {'k': 1, 'v': 2, 'nope': None}


def test_builtins_are_not_stored() -> None:
    def builtins(name: str) -> tuple[bool, Any]:
        return (True, {'h,1,c': {'port': 1}}) if name == 'hosts' else (
            False, None)
    out, keys = render('{{= %hosts%.length }}', {}, builtins)
    assert (out, keys) == ('1', {})


@pytest.mark.parametrize('text', [
    '{{ %i%++ }}', '{{ for %i% = 0; %i% < 1; %i% = 1 }}{{ done }}',
    '{{ do }}{{ while 0 }}', '{{ break }}', '{{= %o% }}', '{{= }}',
    '{{= %u% + 1 }}', '{{= %u%{\'x\'} }}', '{{ foreach %k% in 3 }}{{ done }}',
    '{{ else }}', '{{ done }}', '{{ if 1 }}{{ else }}{{ elif 1 }}{{ endif }}',
    '{{= \'open }}', '{{= 1 / 0 }}',
])
def test_unsupported_or_invalid_is_rejected(text: str) -> None:
    with pytest.raises(TemplateError):
        render(text, {'o': {'a': 1}}, _none)
