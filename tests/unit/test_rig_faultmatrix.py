"""The fault matrix script's own logic: which cells a spec names, and
when a ring counts as serving (tests/rig/faultmatrix.py)."""

from __future__ import annotations

from unittest import mock

import pytest

from tests.rig import faultmatrix

A, B, C, D = '10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'


def test_cells_expand_steps_and_faults():
    assert faultmatrix.cells('grow:merge:vm') == [('grow:merge', 'vm')]
    assert faultmatrix.cells('shrink:purge') == [
        ('shrink:purge', f) for f in faultmatrix.FAULTS
        if f not in faultmatrix.ONLY]
    grow = faultmatrix.cells('grow')
    assert {s for s, _ in grow} == {s for s in faultmatrix.STEPS
                                    if s.startswith('grow:')}
    everything = faultmatrix.cells('all')
    assert len(everything) == len(set(everything)) == (
        len(faultmatrix.STEPS) * len(faultmatrix.FAULTS)
        - sum(len(faultmatrix.STEPS) - len(only)
              for only in faultmatrix.ONLY.values()))
    assert ('grow:boot', 'boot-hang') in everything
    assert ('grow:merge', 'boot-fail') not in everything


def test_a_cell_may_name_whose_vm_the_fault_hits():
    assert faultmatrix.cells('grow:purge:vm-gone@new') == [
        ('grow:purge', 'vm-gone@new')]
    with pytest.raises(ValueError, match='unknown target'):
        faultmatrix.cells('grow:purge:vm-gone@slave')


def test_a_boot_fault_exists_at_the_boot_step_only():
    assert faultmatrix.cells('grow:boot:boot-fail') == [
        ('grow:boot', 'boot-fail')]
    assert 'boot-fail' not in {f for _, f in faultmatrix.cells('shrink')}
    with pytest.raises(ValueError, match='not one of step grow:merge'):
        faultmatrix.cells('grow:merge:boot-fail')


@pytest.mark.parametrize('spec', ['grow:nosuch', 'grow:merge:meteor'])
def test_unknown_cells_are_refused(spec):
    with pytest.raises(ValueError, match='unknown'):
        faultmatrix.cells(spec)


def serving(views):
    with mock.patch.object(faultmatrix.scenario, 'views',
                           return_value=views):
        return faultmatrix.serving_ring(list(views))


def test_a_ring_serves_when_every_view_agrees_and_is_healthy():
    ring = [(A, 0x21), (B, 0x21), (C, 0x21), (D, 0x11)]
    # D is listed but out of the ring (a grow's member that never joined)
    assert serving({A: ring, B: ring, C: ring, D: None}) == [A, B, C]


@pytest.mark.parametrize('views', [
    {A: [(A, 0x21), (B, 0x1021)], B: [(A, 0x21), (B, 0x1021)]},  # merging
    {A: [(A, 0x21), (B, 0x20)], B: None},                         # down
    {A: [(A, 0x21), (B, 0x21)], B: [(A, 0x21), (B, 0x21), (C, 0x21)]},
    {A: None, B: None},
])
def test_a_ring_does_not_serve(views):
    assert serving(views) == []


def test_a_row_names_the_cell_and_hides_pipes():
    row = faultmatrix.Result('grow:merge', 'vm', 'old (3)', '9/9', None,
                             'NONE', 'ACTIVE; a|b').row()
    assert row == ('| grow:merge | vm | old (3) | 9/9 | not serving | '
                   'ACTIVE; a/b |')


def test_a_long_status_keeps_its_step_and_its_outcome():
    text = 'ACTIVE; grow failed: grow: refresh config: ' + 'x' * 300 + \
        '; undone, the cluster is as it was'
    row = faultmatrix.Result('s', 'f', 't', 'k', 1.0, 'NONE', text).row()
    assert 'grow failed: grow: refresh config' in row
    assert row.endswith('; undone, the cluster is as it was |')
    assert len(row) < 300
