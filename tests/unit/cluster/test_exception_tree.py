"""Every exception the plugin defines is in its one tree
(``trove_k2hdkc.exceptions``), so callers can catch ``K2hdkcError`` for
"the plugin could not do it" -- except the edge types, which are Trove's
or webob's own (an HTTP answer of the API, a guest timeout Trove
handles).

In the cluster process: importing every module imports Trove's servers,
which monkey-patch with eventlet.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from trove.common.exception import TroveError
import webob.exc

import trove_k2hdkc
from trove_k2hdkc.exceptions import K2hdkcError

EDGE = (TroveError, webob.exc.HTTPException)


def _defined_exceptions() -> list[type]:
    found = []
    for info in pkgutil.walk_packages(trove_k2hdkc.__path__,
                                      trove_k2hdkc.__name__ + '.'):
        module = importlib.import_module(info.name)
        found += [cls for _, cls in inspect.getmembers(module, inspect.isclass)
                  if issubclass(cls, BaseException)
                  and cls.__module__ == info.name]
    return found


def test_every_plugin_exception_derives_from_k2hdkc_error():
    found = _defined_exceptions()
    assert len(found) > 20
    outside = sorted('%s.%s' % (c.__module__, c.__qualname__)
                     for c in found
                     if not issubclass(c, (K2hdkcError,) + EDGE))
    assert outside == []
