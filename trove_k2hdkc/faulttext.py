"""Fault texts that fit Trove's ``instance_faults`` row.

Its ``message`` column is ``String(255)`` and ``details`` is ``Text``
(65,535 bytes in MySQL). Trove's ``save_instance_fault`` passes both
through ``utils.format_output``, which breaks long lines (``': '``
becomes ``':\\n    '``, so a text grows) and cuts the message's *end* at
255 characters; it does not bound ``details``, so an overlong one makes
the row's write fail on a strict MySQL and the fault is lost. The end
of a cluster fault says how the cluster ended, which matters most, so a
text too long for a column is shortened here in the middle: its start
(the step that failed) and its end are kept, joined by ``' ... '``,
and what Trove makes of it still fits.

``format_output`` also recurses once per break it makes in a line: a
one-line text of a few thousand ``': '`` (a long list of members and
codes) raised ``RecursionError`` and the fault was not saved at all.
So the details are broken into lines here first, which
``format_output`` then leaves as they are.
"""

from __future__ import annotations

from collections.abc import Callable
import textwrap

from trove.common import utils

MESSAGE_CHARS = 255
DETAILS_BYTES = 65535
GAP = ' ... '
# Of what is kept, the start's share; the rest is the end.
_HEAD = 0.4


def _cut(text: str, keep: int) -> str:
    head = int(keep * _HEAD)
    return text[:head] + GAP + text[len(text) - (keep - head):]


def shorten(text: str, fits: Callable[[str], bool]) -> str:
    """``text``, or the longest start-and-end of it that ``fits``."""
    if fits(text):
        return text
    low, high = 0, len(text) - 1
    while low < high:
        mid = (low + high + 1) // 2
        if fits(_cut(text, mid)):
            low = mid
        else:
            high = mid - 1
    return _cut(text, low)


def _message_fits(text: str) -> bool:
    # a long text is not handed to format_output (see above)
    return (len(text) <= MESSAGE_CHARS
            and len(utils.format_output(text)) <= MESSAGE_CHARS)


# format_output breaks a line longer than 79 characters, counting its
# newline.
_WIDTH = 78


def _lines(text: str) -> str:
    """``text`` in lines of at most ``_WIDTH`` characters (a word longer
    than that, such as a URL, stays whole on its own line)."""
    return '\n'.join(
        textwrap.fill(line, _WIDTH, break_long_words=False,
                      break_on_hyphens=False) or line
        for line in text.splitlines())


def _details_fit(text: str) -> bool:
    return len(utils.format_output(_lines(text)).encode('utf-8')
               ) <= DETAILS_BYTES


# The start kept of a message whose end takes the rest: enough for
# "<operation> failed: <step>" or "<operation> interrupted by ...".
_MIN_HEAD = 45
_CLAUSE = '; '


def _ending(text: str, room: int) -> str | None:
    """The last two clauses of ``text`` (``'; '``-separated; its end says
    how the cluster ended and what to do), or the last one, if it has
    more than one and they fit in ``room`` characters."""
    clauses = text.split(_CLAUSE)
    for count in (2, 1):
        if len(clauses) > count:
            tail = _CLAUSE.join(clauses[-count:])
            if len(tail) <= room:
                return tail
    return None


def message(text: str) -> str:
    """For the ``message`` column (what ``instance show`` prints as the
    fault's message): a long text keeps its last clauses whole and as
    much of its start as fits, or else its start and its end."""
    if _message_fits(text):
        return text
    budget = MESSAGE_CHARS
    while budget > len(GAP):
        tail = _ending(text, budget - len(GAP) - _MIN_HEAD)
        if tail is None:
            break
        head = text[:budget - len(GAP) - len(tail)]
        candidate = head + GAP + tail
        if _message_fits(candidate):
            return candidate
        budget -= 1
    return shorten(text, _message_fits)


def details(text: str) -> str:
    """For the ``details`` column: the whole text, in lines, unless it
    is too long."""
    return _lines(shorten(text, _details_fit))
