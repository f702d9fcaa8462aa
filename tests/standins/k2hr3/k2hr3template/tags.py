"""Split a template into text and ``{{ ... }}`` tags and build the tree.

Text outside tags is kept verbatim (the real engine leaves the leading
whitespace and newline of directive-only lines in the output).  A tag
missing its closing ``}}`` runs to the end of the data (tolerated by the
real engine).  Nodes: ('text', s), ('print', e), ('exec', e),
('if', [(cond, body), ...], else_body), ('foreach', var, e, body).
"""

from __future__ import annotations

import re

from tests.standins.k2hr3.k2hr3template import expr
from tests.standins.k2hr3.k2hr3template.errors import TemplateError

SHEBANG = re.compile(r'\{\{#!\s*(\S+)\s*\}\}\n?')
_KEYWORD = re.compile(r'(if|elif|else|endif|foreach|done|while|for|do'
                      r'|break|continue)\b(.*)$', re.DOTALL)
_FOREACH = re.compile(r'(%[^%\s]+%)\s+in\s+(.*)$', re.DOTALL)
_UNSUPPORTED = ('while', 'for', 'do', 'break', 'continue')


def strip_shebang(text: str) -> str:
    """Drop ``{{#!k2hr3template }}`` with its newline; other engines fail."""
    match = SHEBANG.match(text)
    if not match:
        return text
    if match.group(1) != 'k2hr3template':
        raise TemplateError('unknown template engine')
    return text[match.end():]


def split(text: str) -> list[tuple[str, str]]:
    """Return [('text', s) | ('tag', inner)] pieces in order."""
    if '{{{' in text or '}}}' in text:
        raise TemplateError('brace escapes are not supported')
    pieces: list[tuple[str, str]] = []
    pos = 0
    while True:
        start = text.find('{{', pos)
        if start < 0:
            if pos < len(text):
                pieces.append(('text', text[pos:]))
            return pieces
        if start > pos:
            pieces.append(('text', text[pos:start]))
        end = text.find('}}', start + 2)
        if end < 0:
            pieces.append(('tag', text[start + 2:]))
            return pieces
        pieces.append(('tag', text[start + 2:end]))
        pos = end + 2


def build(pieces: list[tuple[str, str]]) -> list[tuple]:
    """Turn the pieces into a node tree; unbalanced blocks raise."""
    root: list[tuple] = []
    stack: list[dict] = []
    body = root
    for kind, content in pieces:
        if kind == 'text':
            body.append(('text', content))
            continue
        stripped = content.strip()
        if stripped.startswith('#'):
            continue
        if stripped.startswith('='):
            body.append(('print', expr.parse(stripped[1:])))
            continue
        match = _KEYWORD.match(stripped)
        if not match:
            body.append(('exec', expr.parse(stripped)))
            continue
        word, rest = match.group(1), match.group(2).strip()
        if word in _UNSUPPORTED:
            raise TemplateError('%s is not supported by the stand-in' % word)
        body = _control(word, rest, stack, root)
    if stack:
        raise TemplateError('unclosed %s block' % stack[-1]['kind'])
    return root


def _control(word: str, rest: str, stack: list[dict],
             root: list[tuple]) -> list[tuple]:
    """Apply one block keyword; return the body to append to next."""
    if word == 'if':
        frame = {'kind': 'if', 'branches': [(expr.parse(rest), [])],
                 'else': None}
        stack.append(frame)
        return frame['branches'][0][1]
    if word == 'foreach':
        match = _FOREACH.match(rest)
        if not match:
            raise TemplateError('malformed foreach')
        frame = {'kind': 'foreach', 'body': [],
                 'var': expr.parse_variable(match.group(1)),
                 'expr': expr.parse(match.group(2))}
        stack.append(frame)
        return frame['body']
    if not stack:
        raise TemplateError('%s without an open block' % word)
    frame = stack[-1]
    if word in ('elif', 'else', 'endif'):
        if frame['kind'] != 'if' or (
                word != 'endif' and frame['else'] is not None):
            raise TemplateError('misplaced %s' % word)
        if word == 'elif':
            frame['branches'].append((expr.parse(rest), []))
            return frame['branches'][-1][1]
        if word == 'else':
            if rest:
                raise TemplateError('else takes no expression')
            frame['else'] = []
            return frame['else']
        if rest:
            raise TemplateError('endif takes no expression')
        node = ('if', frame['branches'], frame['else'] or [])
    else:
        if frame['kind'] != 'foreach' or rest:
            raise TemplateError('misplaced done')
        node = ('foreach', frame['var'], frame['expr'], frame['body'])
    stack.pop()
    parent = _current_body(stack, root)
    parent.append(node)
    return parent


def _current_body(stack: list[dict], root: list[tuple]) -> list[tuple]:
    if not stack:
        return root
    frame = stack[-1]
    if frame['kind'] == 'foreach':
        return frame['body']
    if frame['else'] is not None:
        return frame['else']
    return frame['branches'][-1][1]
