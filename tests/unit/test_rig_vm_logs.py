"""A deleted rig VM leaves its logs behind (tests/rig/vm.py)."""

from __future__ import annotations

from tests.rig import vm


def test_a_vms_logs_are_kept_when_its_disk_goes(tmp_path):
    root = vm.vm_root(tmp_path, 'abc123')
    (root / 'log' / 'k2hdkc').mkdir(parents=True)
    (root / 'guest-agent.log').write_text('agent\n')
    (root / 'log' / 'k2hdkc' / 'chmpx.log').write_text('chmpx\n')
    (root / 'log' / 'k2hdkc' / 'k2hdkc.log').write_text('k2hdkc\n')
    (root / 'data').mkdir()
    (root / 'data' / 'big.k2h').write_text('not a log')

    vm.keep_logs(tmp_path, 'abc123')

    kept = tmp_path / 'logs' / 'vm-abc123'
    assert sorted(p.name for p in kept.iterdir()) == [
        'chmpx.log', 'guest-agent.log', 'k2hdkc.log']
    assert (kept / 'k2hdkc.log').read_text() == 'k2hdkc\n'


def test_a_vm_without_logs_leaves_no_folder(tmp_path):
    vm.vm_root(tmp_path, 'empty').mkdir(parents=True)
    vm.keep_logs(tmp_path, 'empty')
    assert not (tmp_path / 'logs').exists()
