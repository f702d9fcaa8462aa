"""A strict reader for CHMPX/K2HDKC INI files (test helper only).

Stricter than chmpx: unknown sections, lower-case or duplicate keys, text
before the first section or lines without ``=`` are errors, so a template
that renders sloppily fails here even where chmpx would shrug.
"""

from __future__ import annotations

import re

SECTIONS = ('GLOBAL', 'SVRNODE', 'SLVNODE', 'K2HDKC')
_KEY_RE = re.compile(r'([A-Z][A-Z0-9_]*)\s*=\s*(.*?)\s*')
_SECTION_RE = re.compile(r'\[([A-Z0-9_]+)\]')


class IniError(ValueError):
    pass


def parse(text: str) -> list[tuple[str, dict[str, str]]]:
    """Return ``[(section, {key: value})]`` in file order."""
    out: list[tuple[str, dict[str, str]]] = []
    for lineno, raw in enumerate(text.split('\n'), 1):
        line = raw.strip()
        if not line or line.startswith('#'):
            continue
        if '{{' in line or '}}' in line:
            raise IniError('%d: template residue %r' % (lineno, raw))
        section = _SECTION_RE.fullmatch(line)
        if section:
            if section.group(1) not in SECTIONS:
                raise IniError('%d: unknown section %r' % (lineno, line))
            out.append((section.group(1), {}))
            continue
        pair = _KEY_RE.fullmatch(line)
        if not pair:
            raise IniError('%d: not KEY = value: %r' % (lineno, raw))
        if not out:
            raise IniError('%d: key before any section' % lineno)
        key, value = pair.groups()
        if key in out[-1][1]:
            raise IniError('%d: duplicate key %s' % (lineno, key))
        if value == '':
            raise IniError('%d: empty value for %s' % (lineno, key))
        out[-1][1][key] = value
    counts = {name: sum(1 for s, _ in out if s == name) for name in SECTIONS}
    if counts['GLOBAL'] != 1 or counts['K2HDKC'] > 1:
        raise IniError('need exactly one GLOBAL and at most one K2HDKC')
    if not counts['SVRNODE'] and not counts['SLVNODE']:
        raise IniError('no node sections')
    return out


def sections(parsed, name):
    return [body for sec, body in parsed if sec == name]
