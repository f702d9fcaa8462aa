"""Design citations in code and tests point at documents in the repository.

Comments and docstrings cite the design as ``doc/<file>.md §N``. A citation
of a file or section that does not exist, or of notes that live outside the
repository, sends the reader nowhere, so it fails here.
"""

from __future__ import annotations

from collections.abc import Iterable
import pathlib
import re

import pytest

from tests.conftest import REPO_ROOT

SCANNED = ('trove_k2hdkc', 'tests')
SUFFIXES = {'.py', '.md'}
SKIPPED = (REPO_ROOT / 'tests' / 'data', pathlib.Path(__file__).resolve())

# doc/x.md §1, §2 -- also across a line break inside a comment or docstring.
_CITATION = re.compile(
    r'\b((?:doc|tests/data/reference)/[\w.-]+\.md)'
    r'((?:[\s#]*(?:,|and)?[\s#]*§\d+)*)')
_SECTION = re.compile(r'§(\d+)')
_HEADING = re.compile(r'^#{1,6}\s+§(\d+)\b', re.MULTILINE)

#: Notes outside the repository, and the old section numbering they used.
FORBIDDEN = {
    r'\b(?:k2hdkc-)?scaling\.md': 'notes outside the repository',
    r'guest_rpc\.md': 'notes outside the repository',
    r'k2hdkc-chmpx-operations\.md': 'notes outside the repository',
    r'k2hr3-api\.md': 'notes outside the repository',
    r'trove26-plug-points\.md': 'notes outside the repository',
    r'upstream-prior-art\.md': 'notes outside the repository',
    r'second-capture|real-rig-run': 'notes outside the repository',
    r'(?:\.\./)?shared/(?:docs|reference)': 'a path outside the repository',
    r'/work/': 'a path outside the repository',
    r'reference README': 'the capture notes outside the repository',
    r'§\d+\.\d+': 'a section number of the old notes (doc/ has §N only)',
}


def sections(doc: pathlib.Path) -> set[int]:
    return {int(n) for n in _HEADING.findall(doc.read_text())}


def citations(text: str) -> list[tuple[str, list[int], int]]:
    """``(file, [sections], line)`` for every citation in ``text``."""
    found = []
    for match in _CITATION.finditer(text):
        numbers = [int(n) for n in _SECTION.findall(match.group(2))]
        line = text.count('\n', 0, match.start()) + 1
        found.append((match.group(1), numbers, line))
    return found


def problems(path: pathlib.Path, text: str, root: pathlib.Path) -> list[str]:
    where = path.relative_to(root) if path.is_absolute() else path
    out = []
    for cited, numbers, line in citations(text):
        target = root / cited
        if not target.is_file():
            out.append('%s:%d: %s does not exist' % (where, line, cited))
            continue
        missing = [n for n in numbers if n not in sections(target)]
        out.extend('%s:%d: %s has no section §%d' % (where, line, cited, n)
                   for n in missing)
    for pattern, why in FORBIDDEN.items():
        for match in re.finditer(pattern, text):
            line = text.count('\n', 0, match.start()) + 1
            out.append('%s:%d: %r cites %s' % (where, line, match.group(0),
                                               why))
    return out


def scanned_files(root: pathlib.Path) -> Iterable[pathlib.Path]:
    for top in SCANNED:
        for path in sorted((root / top).rglob('*')):
            if path.suffix not in SUFFIXES or not path.is_file():
                continue
            if any(path == s or s in path.parents for s in SKIPPED):
                continue
            yield path


def test_every_design_citation_resolves() -> None:
    found = []
    for path in scanned_files(REPO_ROOT):
        found.extend(problems(path, path.read_text(), REPO_ROOT))
    assert found == []


def test_the_scan_sees_the_citations() -> None:
    """The scan must find the citations the code is known to make, or the
    test above passes on nothing."""
    cited = {c[0] for path in scanned_files(REPO_ROOT)
             for c in citations(path.read_text())}
    assert {'doc/ring-procedures.md', 'doc/guest-rpc.md',
            'doc/k2hr3-layout.md'} <= cited


def test_doc_sections_are_numbered() -> None:
    assert sections(REPO_ROOT / 'doc' / 'ring-procedures.md') == set(
        range(1, 12))


@pytest.mark.parametrize('text, expected', [
    ('see doc/ring-procedures.md §8.', []),
    ('(doc/ring-procedures.md §6, §8)', []),
    ('a comment (doc/ring-procedures.md\n    # §3 step 4)', []),
    ('doc/ring-procedures.md §12', ['has no section §12']),
    ('doc/ring-procedures.md §2, §12', ['has no section §12']),
    ('doc/no-such.md §1', ['doc/no-such.md does not exist']),
    ('k2hdkc-scaling.md §4.8', ["'k2hdkc-scaling.md' cites",
                                "'§4.8' cites"]),
    ('(notes/guest_rpc.md)', ["'guest_rpc.md' cites"]),
    ('``../shared/reference``', ["'../shared/reference' cites"]),
    ('the §4.3 procedure', ["'§4.3' cites"]),
])
def test_problems_are_reported(text: str, expected: list[str]) -> None:
    got = problems(pathlib.Path('x.py'), text, REPO_ROOT)
    assert len(got) == len(expected)
    for message, part in zip(got, expected, strict=True):
        assert part in message
