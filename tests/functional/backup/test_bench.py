"""The backup benchmark runs end to end and prints its figures."""

from __future__ import annotations

from tests.functional.backup import bench


def test_bench_prints_a_row_per_size(capsys):
    assert bench.main(['--sizes', '1']) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith('k2hlinetool: ')
    row = out[2].split()
    assert row[0] == '1' and row[4].endswith('x')
    assert float(row[3]) > 0 and float(row[5]) > 0
