"""gzip + openssl-compatible AES streams of the backup program."""

from __future__ import annotations

import os
import subprocess

import pytest

from trove_k2hdkc.backup import crypto
from trove_k2hdkc.backup import main


def _pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize('length', range(0, 200, 7))
def test_round_trip_every_padding(length):
    """Every tail length, including ciphertext whose last block is all
    padding (an empty final plain chunk)."""
    data = os.urandom(length)
    stored = b''.join(crypto.encrypt(main.gzip_stream(_pieces(data, 5)),
                                     'k'))
    back = b''.join(main.gunzip_stream(crypto.decrypt(_pieces(stored, 3),
                                                      'k')))
    assert back == data


def test_openssl_reads_ours_and_we_read_openssl():
    data = os.urandom(100000)
    ours = b''.join(crypto.encrypt(_pieces(data, 4096), 'p@ss'))
    cmd = ['openssl', 'enc', '-aes-256-cbc', '-md', 'sha512', '-pbkdf2',
           '-iter', '10000', '-salt', '-pass', 'pass:p@ss']
    plain = subprocess.run(cmd[:2] + ['-d'] + cmd[2:], input=ours,
                           capture_output=True, check=True).stdout
    assert plain == data
    theirs = subprocess.run(cmd, input=data, capture_output=True,
                            check=True).stdout
    assert b''.join(crypto.decrypt(_pieces(theirs, 1000), 'p@ss')) == data


@pytest.mark.parametrize('damage, reason', [
    (lambda b: b[:-16], 'wrong key, or the data is damaged or truncated'),
    (lambda b: b'Salted__', 'not OpenSSL-encrypted'),
    (lambda b: b'garbage!' * 4, 'not OpenSSL-encrypted'),
])
def test_decrypt_refuses_damage(damage, reason):
    stored = b''.join(crypto.encrypt([os.urandom(1000)], 'k'))
    with pytest.raises(crypto.DecryptError, match=reason):
        b''.join(crypto.decrypt([damage(stored)], 'k'))


@pytest.mark.parametrize('damage, reason', [
    (lambda b: b[:-4], 'ends early'),
    (lambda b: b + b'x', 'data after the end'),
    (lambda b: b[:10] + b'\xff' * 20 + b[30:], 'damaged'),
])
def test_gunzip_refuses_damage(damage, reason):
    packed = b''.join(main.gzip_stream([os.urandom(3000)]))
    with pytest.raises(main.BackupFailed, match=reason):
        b''.join(main.gunzip_stream(_pieces(damage(packed), 100)))
