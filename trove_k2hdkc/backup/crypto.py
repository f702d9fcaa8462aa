"""Streaming AES-256-CBC in the format of ``openssl enc -pbkdf2``.

Why: Trove's backup image decrypts with ``openssl enc -d -aes-256-cbc -md
sha512 -pbkdf2 -iter 10000 -salt -pass pass:<backup_aes_cbc_key>``, so a
backup encrypted here must be exactly that format (doc/backup.md §2):
``Salted__`` + 8-byte salt, key and IV from PBKDF2-HMAC-SHA512, PKCS#7.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Iterator
import hashlib
import os

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.ciphers import modes

from trove_k2hdkc.exceptions import K2hdkcError

MAGIC = b'Salted__'
ITERATIONS = 10000
SALT_LEN = 8


class DecryptError(K2hdkcError):
    """The data is not an encrypted backup made with this key."""


def _cipher(key: str, salt: bytes) -> Cipher:
    derived = hashlib.pbkdf2_hmac('sha512', key.encode(), salt,
                                  ITERATIONS, 48)
    return Cipher(algorithms.AES(derived[:32]), modes.CBC(derived[32:]))


def encrypt(chunks: Iterable[bytes], key: str) -> Iterator[bytes]:
    salt = os.urandom(SALT_LEN)
    enc = _cipher(key, salt).encryptor()
    pad = padding.PKCS7(128).padder()
    yield MAGIC + salt
    for chunk in chunks:
        out = enc.update(pad.update(chunk))
        if out:
            yield out
    yield enc.update(pad.finalize()) + enc.finalize()


def decrypt(chunks: Iterable[bytes], key: str) -> Iterator[bytes]:
    """Plain bytes; ``DecryptError`` when the header or the final padding
    is wrong (wrong key, damaged or truncated data)."""
    it = iter(chunks)
    head = b''
    for chunk in it:
        head += chunk
        if len(head) >= len(MAGIC) + SALT_LEN:
            break
    if len(head) < len(MAGIC) + SALT_LEN or not head.startswith(MAGIC):
        raise DecryptError('the backup is not OpenSSL-encrypted data')
    salt = head[len(MAGIC):len(MAGIC) + SALT_LEN]
    dec = _cipher(key, salt).decryptor()
    unpad = padding.PKCS7(128).unpadder()
    rest = head[len(MAGIC) + SALT_LEN:]
    for chunk in _chain(rest, it):
        out = unpad.update(dec.update(chunk))
        if out:
            yield out
    try:
        yield unpad.update(dec.finalize()) + unpad.finalize()
    except ValueError as exc:
        raise DecryptError('cannot decrypt the backup: wrong key, or the '
                           'data is damaged or truncated') from exc


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest
