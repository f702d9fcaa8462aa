"""Evaluation of parsed expressions against the variable scope."""

from __future__ import annotations

from typing import Any

from tests.standins.k2hr3.k2hr3template import values
from tests.standins.k2hr3.k2hr3template.errors import TemplateError
from tests.standins.k2hr3.k2hr3template.scope import Scope


def evaluate(node: tuple, scope: Scope) -> Any:
    kind = node[0]
    if kind == 'lit':
        return node[1]
    if kind == 'var':
        return scope.read(node[1])
    if kind == 'assign':
        value = evaluate(node[2], scope)
        scope.write(node[1], value)
        return value
    if kind == 'index':
        return values.index(evaluate(node[1], scope),
                            evaluate(node[2], scope))
    if kind == 'len':
        return values.length(evaluate(node[1], scope))
    if kind == 'unary':
        operand = evaluate(node[2], scope)
        if node[1] == '!':
            return not values.truthy(operand)
        return -values.to_number(operand)
    if kind == 'bin':
        return _binary(node[1], node[2], node[3], scope)
    raise TemplateError('unknown node %r' % (kind,))


def _binary(op: str, left_node: tuple, right_node: tuple,
            scope: Scope) -> Any:
    left = evaluate(left_node, scope)
    if op == '&&':
        return values.truthy(left) and values.truthy(
            evaluate(right_node, scope))
    if op == '||':
        return values.truthy(left) or values.truthy(
            evaluate(right_node, scope))
    right = evaluate(right_node, scope)
    if op == '==':
        return values.equal(left, right)
    if op == '!=':
        return not values.equal(left, right)
    if op in ('<', '>', '<=', '>='):
        return values.compare(op, left, right)
    return values.arithmetic(op, left, right)
