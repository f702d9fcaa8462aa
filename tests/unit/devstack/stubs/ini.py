"""iniset/iniget as devstack's inc/ini-config does them: a missing
section is appended, a missing option is added right after its section
line, an existing one is replaced in place; nothing else is touched."""

import pathlib
import re
import sys


def _section_range(lines, section):
    start = None
    for i, line in enumerate(lines):
        if line.strip() == '[%s]' % section:
            start = i
        elif start is not None and line.startswith('['):
            return start, i
    return (start, len(lines)) if start is not None else None


def _find(lines, span, option):
    pattern = re.compile(r'^%s[ \t]*=' % re.escape(option))
    for i in range(span[0] + 1, span[1]):
        if pattern.match(lines[i]):
            return i
    return None


def iniset(path, section, option, value):
    file = pathlib.Path(path)
    lines = file.read_text().splitlines() if file.exists() else []
    span = _section_range(lines, section)
    if span is None:
        lines += ['', '[%s]' % section]
        span = (len(lines) - 1, len(lines))
    at = _find(lines, span, option)
    if at is None:
        lines.insert(span[0] + 1, '%s = %s' % (option, value))
    else:
        lines[at] = '%s = %s' % (option, value)
    file.write_text('\n'.join(lines) + '\n')


def iniget(path, section, option):
    file = pathlib.Path(path)
    lines = file.read_text().splitlines() if file.exists() else []
    span = _section_range(lines, section)
    at = _find(lines, span, option) if span else None
    return lines[at].split('=', 1)[1].strip() if at is not None else ''


if __name__ == '__main__':
    verb, args = sys.argv[1], sys.argv[2:]
    if verb == 'set':
        iniset(*args)
    else:
        print(iniget(*args))
