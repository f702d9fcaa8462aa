"""Value semantics: truthiness, printing and left-operand coercion.

The documented rule is "mixed types are coerced to the left operand's
type".  Where the result of a coercion is not evident (undefined or
objects in arithmetic, printing an object) the engine raises instead of
guessing, so a template relying on it fails in tests.
"""

from __future__ import annotations

import re
from typing import Any

from tests.standins.k2hr3.k2hr3template.errors import TemplateError

_NUMERIC = re.compile(r'\s*-?\d+(\.\d+)?\s*$')


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def truthy(value: Any) -> bool:
    """JavaScript truthiness (objects and arrays are always true)."""
    if value is None or value is False:
        return False
    if is_number(value):
        return value != 0
    if isinstance(value, str):
        return value != ''
    return True


def to_text(value: Any) -> str:
    """What ``{{= expr }}`` prints; undefined prints nothing."""
    if value is None:
        return ''
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (int, str)):
        return str(value)
    raise TemplateError('cannot print an object or array')


def to_number(value: Any) -> int | float:
    if isinstance(value, bool):
        return int(value)
    if is_number(value):
        return value
    if isinstance(value, str) and _NUMERIC.match(value):
        text = value.strip()
        return float(text) if '.' in text else int(text)
    raise TemplateError('cannot use %r as a number' % (value,))


def _coerce_like(left: Any, right: Any) -> Any:
    if is_number(left):
        return to_number(right)
    if isinstance(left, str):
        return to_text(right) if right is not None else None
    return right


def equal(left: Any, right: Any) -> bool:
    """``==``: undefined equals only undefined; else coerce to left."""
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, bool) or isinstance(right, bool):
        return truthy(left) == truthy(right)
    try:
        return left == _coerce_like(left, right)
    except TemplateError:
        return False


def compare(op: str, left: Any, right: Any) -> bool:
    if left is None or right is None:
        raise TemplateError('cannot compare undefined')
    if isinstance(left, str):
        right = to_text(right)
    else:
        left, right = to_number(left), to_number(right)
    return {'<': left < right, '>': left > right,
            '<=': left <= right, '>=': left >= right}[op]


def arithmetic(op: str, left: Any, right: Any) -> Any:
    if left is None or right is None:
        raise TemplateError('arithmetic on undefined')
    if isinstance(left, str):
        if op != '+':
            raise TemplateError('only + is defined on strings')
        return left + to_text(right)
    left, right = to_number(left), to_number(right)
    if op in ('/', '%') and right == 0:
        raise TemplateError('division by zero')
    if op in ('&', '|', '<<', '>>'):
        if not (isinstance(left, int) and isinstance(right, int)):
            raise TemplateError('bit operation on a fraction')
    result = {
        '+': lambda: left + right, '-': lambda: left - right,
        '*': lambda: left * right, '/': lambda: left / right,
        '%': lambda: _js_mod(left, right), '&': lambda: left & right,
        '|': lambda: left | right, '<<': lambda: left << right,
        '>>': lambda: left >> right,
    }[op]()
    if isinstance(result, float) and result.is_integer():
        return int(result)
    return result


def _js_mod(left: int | float, right: int | float) -> int | float:
    result = abs(left) % abs(right)
    return -result if left < 0 else result


def length(value: Any) -> int:
    """``.length``: undefined counts as 0 (the captured renders)."""
    if value is None:
        return 0
    if isinstance(value, (str, list, dict)):
        return len(value)
    raise TemplateError('.length of a scalar')


def index(base: Any, key: Any) -> Any:
    if isinstance(base, dict):
        if not isinstance(key, str):
            key = to_text(key)
        return base.get(key)
    if isinstance(base, list):
        position = to_number(key)
        if isinstance(position, int) and 0 <= position < len(base):
            return base[position]
        return None
    raise TemplateError('cannot index %s' % type(base).__name__)
