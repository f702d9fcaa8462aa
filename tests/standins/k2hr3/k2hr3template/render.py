"""Render a k2hr3template string (public entry point of the engine)."""

from __future__ import annotations

from typing import Any

from tests.standins.k2hr3.k2hr3template import tags
from tests.standins.k2hr3.k2hr3template import values
from tests.standins.k2hr3.k2hr3template.errors import TemplateError
from tests.standins.k2hr3.k2hr3template.evaluate import evaluate
from tests.standins.k2hr3.k2hr3template.scope import Builtins
from tests.standins.k2hr3.k2hr3template.scope import Scope

_MAX_ITERATIONS = 100000


def render(text: str, keys: dict[str, Any],
           builtins: Builtins) -> tuple[str, dict[str, Any]]:
    """Render ``text``; return (output, keys incl. template variables).

    ``keys`` is copied, never modified.  ``builtins(name)`` returns
    ``(found, value)`` for YRN variables (role host lists ...).
    Raises TemplateError for anything this engine does not support.
    """
    tree = tags.build(tags.split(tags.strip_shebang(text)))
    scope = Scope(dict(keys), builtins)
    out: list[str] = []
    try:
        _run(tree, scope, out)
    except RecursionError as exc:
        raise TemplateError('template too deep') from exc
    return ''.join(out), scope.keys


def _run(nodes: list[tuple], scope: Scope, out: list[str]) -> None:
    for node in nodes:
        kind = node[0]
        if kind == 'text':
            out.append(node[1])
        elif kind == 'print':
            out.append(values.to_text(evaluate(node[1], scope)))
        elif kind == 'exec':
            evaluate(node[1], scope)
        elif kind == 'if':
            _run_if(node, scope, out)
        elif kind == 'foreach':
            _run_foreach(node, scope, out)
        else:
            raise TemplateError('unknown node %r' % (kind,))


def _run_if(node: tuple, scope: Scope, out: list[str]) -> None:
    for cond, body in node[1]:
        if values.truthy(evaluate(cond, scope)):
            _run(body, scope, out)
            return
    _run(node[2], scope, out)


def _run_foreach(node: tuple, scope: Scope, out: list[str]) -> None:
    _, var, source, body = node
    container = evaluate(source, scope)
    if container is None:
        return
    if isinstance(container, dict):
        items = list(container.keys())
    elif isinstance(container, list):
        items = list(container)
    else:
        raise TemplateError('foreach over a scalar')
    if len(items) > _MAX_ITERATIONS:
        raise TemplateError('foreach too long')
    for item in items:
        scope.write(var, item)
        _run(body, scope, out)
