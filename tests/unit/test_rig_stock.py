"""The rig's stock procedure (tests/rig/stock.py) takes the calls the
taskmanager makes: the real-binary stock-loss run failed with "grow() got
an unexpected keyword argument 'joining'" once Procedures.grow gained it."""

from __future__ import annotations

import inspect

from tests.rig import stock
from trove_k2hdkc.cluster.procedures import Procedures


def test_each_overridden_step_takes_the_products_arguments():
    for name in ('grow', 'shrink_ring'):
        ours = inspect.signature(getattr(stock.StockProcedures, name))
        theirs = inspect.signature(getattr(Procedures, name))
        assert list(ours.parameters) == list(theirs.parameters), name


def test_the_stock_grow_says_when_the_ring_is_touched():
    calls = []

    class Recorder(stock.StockProcedures):
        def __init__(self):
            pass

        def _all(self, *args, **kwargs):
            calls.append(args[0])

        def _one(self, step, *args, **kwargs):
            calls.append(step)

        def wait_ring(self, step, *args, **kwargs):
            calls.append(step)

        def wait_self(self, step, *args, **kwargs):
            calls.append(step)

    class Access:
        def kwargs(self):
            return {}

    class M:
        def __init__(self, id):
            self.id = id

    Recorder().grow([M('a')], [M('b')], Access(),
                    joining=lambda: calls.append('joining'))
    assert calls.index('joining') == calls.index('stock grow: up') + 1
    assert calls.index('joining') < calls.index('stock grow: service in')
