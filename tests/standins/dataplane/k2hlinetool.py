"""k2hlinetool stand-in: offline access to a k2hdkc node file.

Why: backups and restores use ``archive put``/``archive load`` on the
node's K2HFILE; output follows tests/data/reference/k2hdkc/k2hlinetool_*.out.
The archive is the stand-in's own format (JSON lines of elements).
"""

from __future__ import annotations

import json
import os
import stat
import sys

from tests.standins.dataplane import common
from tests.standins.dataplane import store as storemod

RULE = '-' * 55


def header(path: str, ro: bool, opts: dict) -> str:
    label = 'Permanent file(read only attached):     ' if ro else \
        'Permanent file:                         '
    return '\n'.join([
        RULE, ' K2HASH TOOL', RULE, label + path,
        'Attached parameters:',
        '    Full are mapping:                   %s' % (
            'true' if opts.get('fullmap') else 'false'),
        '    Key Index mask count:               %s' % opts.get('mask', 8),
        '    Collision Key Index mask count:     %s' % opts.get('cmask', 4),
        '    Max element count:                  %s' % opts.get(
            'elementcnt', 32),
        RULE, '']) + '\n'


def archive_put(db: storemod.Store, path: str) -> bool:
    """Records appended as the iteration goes (a reader may follow the
    file while it grows).  The real tool positions each record with
    lseek+pwrite, so a pipe fails once there is a record to write."""
    if db.elements and os.path.exists(path) and \
            not stat.S_ISREG(os.stat(path).st_mode):
        return False
    try:
        with open(path, 'w', encoding='utf-8') as fobj:
            for key, elem in sorted(db.elements.items()):
                fobj.write(json.dumps(dict(elem, k=key)) + '\n')
                fobj.flush()
        return True
    except OSError:
        return False


def archive_load(db: storemod.Store, path: str) -> bool:
    """Records are applied one by one.  Like the real loader, a record cut
    short at the end of the file ends the load quietly (a short read is
    its end of file), while a damaged whole record fails it, the records
    before it staying applied."""
    try:
        with open(path, encoding='utf-8') as fobj:
            lines = fobj.read().split('\n')
    except (OSError, UnicodeDecodeError):
        return False
    ok = True
    for number, line in enumerate(lines):
        if not line:
            continue
        try:
            elem = json.loads(line)
            key = elem.pop('k')
        except (ValueError, KeyError, AttributeError):
            ok = number == len(lines) - 1   # the unterminated last line
            break
        db.elements[key] = elem
    db.touch()
    return ok


def run_one(db: storemod.Store, line: str, ro: bool) -> bool:
    words = common.split_words(line)
    if not words:
        return True
    cmd, args = words[0].lower(), words[1:]
    if cmd in ('quit', 'exit', 'q'):
        print('Quit & Detach.')
        return False
    if cmd == 'archive' and len(args) >= 2:
        if args[0] == 'put':
            ok = archive_put(db, args[1])
        elif args[0] == 'load' and not ro:
            ok = archive_load(db, args[1])
        else:
            ok = False
        if not ok:
            print('[ERR] Something error occurred during %s archive '
                  'file(%s).' % ('loading' if args[0] == 'load'
                                 else 'putting', args[1]))
    elif cmd in ('print', 'list') and args:
        elem = db.live(args[0])
        prefix = '  +' if cmd == 'print' else '+'
        if elem is not None and elem.get('v'):
            print('%s"%s" => "%s"' % (prefix, args[0], elem['v']))
        else:
            print('%s"%s" => value is not found' % (prefix, args[0]))
    else:
        print('[ERR] Unknown command(%s).' % words[0])
    return True


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    path, ro, run, opts = None, False, None, {}
    while args:
        opt = args.pop(0)
        if opt == '-f' and args:
            path = args.pop(0)
        elif opt == '-ro':
            ro = True
        elif opt == '-run' and args:
            run = args.pop(0)
        elif opt == '-fullmap':
            opts['fullmap'] = True
        elif opt in ('-mask', '-cmask', '-elementcnt', '-pagesize') and args:
            opts[opt[1:]] = args.pop(0)
    if path is None:
        sys.stderr.write('ERROR: -f option is needed.\n')
        return 1
    db = storemod.Store.open_existing(path)
    if ro:
        db.path = None  # never written back
    sys.stdout.write(header(path, ro, opts))
    lines: list[str] = []
    if run:
        with open(run, encoding='utf-8') as fobj:
            lines = fobj.read().splitlines()
    for line in lines:
        print('> %s' % line)
        if not run_one(db, line, ro):
            return 0
    while True:
        sys.stdout.write('K2HTOOL> ')
        sys.stdout.flush()
        line = sys.stdin.readline()
        if not line or not run_one(db, line.rstrip('\n'), ro):
            return 0
