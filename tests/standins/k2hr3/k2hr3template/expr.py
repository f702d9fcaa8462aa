"""Expression tokenizer and parser (``{{= expr }}``, ``{{ expr }}``).

Grammar (precedence low to high): assignment ``%v% = e``, ``||``, ``&&``,
``|``, ``&``, ``== !=``, ``< > <= >=``, ``<< >>``, ``+ -``, ``* / %``,
unary ``! -``, then a primary with at most ONE index (``{e}`` or
``[e]``, as documented) and an optional ``.length/.size/.count``.
``++``/``--`` are documented but not implemented: they are rejected.
"""

from __future__ import annotations

import re
from typing import Any

from tests.standins.k2hr3.k2hr3template.errors import TemplateError

_VAR = re.compile(r'%([^%\s]+)%')
_NUM = re.compile(r'0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+'
                  r'|\d+(?:\.\d+)?')
_WORD = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')
_OPS = ('==', '!=', '<=', '>=', '<<', '>>', '&&', '||', '++', '--',
        '+', '-', '*', '/', '%', '&', '|', '!', '<', '>', '=',
        '(', ')', '{', '}', '[', ']', '.')
_ESCAPES = {'n': '\n', 't': '\t', 'r': '\r', '0': '\0'}
_PROPS = ('length', 'size', 'count')


def tokenize(text: str) -> list[tuple[str, Any]]:
    """Split an expression into (kind, value) tokens."""
    tokens: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char.isspace():
            pos += 1
            continue
        match = _VAR.match(text, pos)
        if char == '%' and match:
            tokens.append(('var', match.group(1)))
            pos = match.end()
            continue
        match = _NUM.match(text, pos)
        if match:
            tokens.append(('lit', _number(match.group(0))))
            pos = match.end()
            continue
        if char in '\'"':
            value, pos = _string(text, pos)
            tokens.append(('lit', value))
            continue
        match = _WORD.match(text, pos)
        if match:
            tokens.append(('word', match.group(0)))
            pos = match.end()
            continue
        for op in _OPS:
            if text.startswith(op, pos):
                tokens.append(('op', op))
                pos += len(op)
                break
        else:
            raise TemplateError('unexpected character %r' % char)
    return tokens


def _number(text: str) -> int | float:
    lower = text.lower()
    for prefix, base in (('0x', 16), ('0o', 8), ('0b', 2)):
        if lower.startswith(prefix):
            return int(lower[2:], base)
    return float(text) if '.' in text else int(text)


def _string(text: str, pos: int) -> tuple[str, int]:
    quote = text[pos]
    out = []
    pos += 1
    while pos < len(text):
        char = text[pos]
        if char == quote:
            return ''.join(out), pos + 1
        if char == '\\' and pos + 1 < len(text):
            pos += 1
            out.append(_ESCAPES.get(text[pos], text[pos]))
        else:
            out.append(char)
        pos += 1
    raise TemplateError('unterminated string literal')


class _Parser:
    _LEVELS = (('||',), ('&&',), ('|',), ('&',), ('==', '!='),
               ('<', '>', '<=', '>='), ('<<', '>>'), ('+', '-'),
               ('*', '/', '%'))

    def __init__(self, tokens: list[tuple[str, Any]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self, offset: int = 0) -> tuple[str, Any] | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> tuple[str, Any]:
        token = self.peek()
        if token is None:
            raise TemplateError('unexpected end of expression')
        self.pos += 1
        return token

    def expect(self, op: str) -> None:
        if self.take() != ('op', op):
            raise TemplateError('expected %r' % op)

    def assignment(self) -> tuple:
        first, second = self.peek(), self.peek(1)
        if first and first[0] == 'var' and second == ('op', '='):
            self.pos += 2
            return ('assign', first[1], self.assignment())
        return self.binary(0)

    def binary(self, level: int) -> tuple:
        if level == len(self._LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while True:
            token = self.peek()
            if not (token and token[0] == 'op'
                    and token[1] in self._LEVELS[level]):
                return node
            self.pos += 1
            node = ('bin', token[1], node, self.binary(level + 1))

    def unary(self) -> tuple:
        token = self.peek()
        if token in (('op', '!'), ('op', '-')):
            self.pos += 1
            return ('unary', token[1], self.unary())
        if token in (('op', '++'), ('op', '--')):
            raise TemplateError('++/-- are not supported by the stand-in')
        return self.postfix()

    def postfix(self) -> tuple:
        node = self.primary()
        token = self.peek()
        if token in (('op', '{'), ('op', '[')):
            close = '}' if token[1] == '{' else ']'
            self.pos += 1
            key = self.assignment()
            self.expect(close)
            node = ('index', node, key)
            if self.peek() in (('op', '{'), ('op', '[')):
                raise TemplateError('only one level of indexing allowed')
        if self.peek() == ('op', '.'):
            self.pos += 1
            kind, name = self.take()
            if kind != 'word' or name not in _PROPS:
                raise TemplateError('unknown property %r' % (name,))
            node = ('len', node)
        if self.peek() in (('op', '++'), ('op', '--')):
            raise TemplateError('++/-- are not supported by the stand-in')
        return node

    def primary(self) -> tuple:
        kind, value = self.take()
        if kind == 'var':
            return ('var', value)
        if kind == 'lit':
            return ('lit', value)
        if kind == 'word':
            words = {'null': None, 'true': True, 'false': False}
            if value in words:
                return ('lit', words[value])
            raise TemplateError('unknown word %r' % value)
        if value == '(':
            node = self.assignment()
            self.expect(')')
            return node
        raise TemplateError('unexpected %r' % value)


def parse(text: str) -> tuple:
    """Parse one expression; the whole text must be consumed."""
    parser = _Parser(tokenize(text))
    if not parser.tokens:
        raise TemplateError('empty expression')
    node = parser.assignment()
    if parser.peek() is not None:
        raise TemplateError('trailing tokens in expression')
    return node


def parse_variable(text: str) -> str:
    """Parse a lone ``%name%`` (the foreach loop variable)."""
    tokens = tokenize(text)
    if len(tokens) != 1 or tokens[0][0] != 'var':
        raise TemplateError('expected a variable')
    return tokens[0][1]
