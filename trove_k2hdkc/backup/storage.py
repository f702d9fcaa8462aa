"""Swift storage of a backup stream: checked segments under an SLO.

Why: Trove records a backup by (location, checksum) and its restore path
checks the manifest's ETag against that checksum, so the layout follows
Trove's SwiftStorage (doc/backup.md §2): segments ``<id>_%08d`` whose
ETags are compared with the MD5 of what was sent, a static large object
manifest at the location, checksum = MD5 of the segments' MD5s.  Unlike
Trove, a segment is streamed to Swift as it is produced (chunked PUT, no
temporary file), and a failed backup deletes what it had uploaded.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Iterator
import hashlib
import json
import urllib.parse

import swiftclient

from trove_k2hdkc.exceptions import K2hdkcError

#: Bytes per PUT request body chunk.
CHUNK = 1 << 16


class StorageError(K2hdkcError):
    """Swift refused the data or gave back something else."""


def _md5():
    return hashlib.md5(usedforsecurity=False)


class _Segment:
    """Up to ``limit`` bytes of the stream, fed to one PUT."""

    def __init__(self, source: _Source, limit: int) -> None:
        self.source = source
        self.limit = limit
        self.size = 0
        self.md5 = _md5()

    def __iter__(self) -> Iterator[bytes]:
        while self.size < self.limit:
            chunk = self.source.take(min(CHUNK, self.limit - self.size))
            if not chunk:
                return
            self.size += len(chunk)
            self.md5.update(chunk)
            yield chunk


class _Source:
    """Re-chunks an iterator of bytes; ``take(n)`` returns <= n bytes."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.it = iter(chunks)
        self.buf = b''
        self.total = 0
        self.eof = False

    def take(self, n: int) -> bytes:
        while not self.buf and not self.eof:
            try:
                self.buf = next(self.it)
            except StopIteration:
                self.eof = True
        out, self.buf = self.buf[:n], self.buf[n:]
        self.total += len(out)
        return out

    def at_end(self) -> bool:
        if not self.buf and not self.eof:
            self.take(0)
        return not self.buf and self.eof


def connect(url: str, token: str, insecure: bool = False):
    return swiftclient.Connection(preauthurl=url, preauthtoken=token,
                                  insecure=insecure, retries=0)


def split_location(location: str) -> tuple[str, str]:
    """(container, object) of ``<swift url>/<container>/<object>``."""
    path = urllib.parse.urlsplit(location).path.rstrip('/')
    parts = path.rsplit('/', 2)
    if len(parts) < 3 or not parts[1] or not parts[2]:
        raise StorageError('not a Swift object location: %s' % location)
    return (urllib.parse.unquote(parts[1]), urllib.parse.unquote(parts[2]))


def save(conn, container: str, name: str, chunks: Iterable[bytes],
         segment_size: int, headers: dict[str, str]) -> tuple[str, int]:
    """Upload ``chunks`` as ``name``; (checksum, stored bytes).

    Each segment's ETag must equal the MD5 of the bytes sent; the manifest
    is written only when every segment checked out and is then HEADed: its
    ETag must be the checksum.  On failure, uploaded segments are deleted.
    """
    conn.put_container(container)
    base = name.split('.')[0]
    source = _Source(chunks)
    manifest: list[dict] = []
    try:
        while not manifest or not source.at_end():
            seg_name = '%s_%08d' % (base, len(manifest))
            seg = _Segment(source, segment_size)
            manifest.append({'path': '%s/%s' % (container, seg_name)})
            etag = conn.put_object(container, seg_name, iter(seg),
                                   chunk_size=CHUNK)
            if etag != seg.md5.hexdigest():
                raise StorageError(
                    'segment %s: Swift ETag %s, sent MD5 %s'
                    % (seg_name, etag, seg.md5.hexdigest()))
            manifest[-1].update(etag=etag, size_bytes=seg.size)
        checksum = _md5()
        for entry in manifest:
            checksum.update(entry['etag'].encode())
        conn.put_object(container, name, json.dumps(manifest),
                        headers=headers,
                        query_string='multipart-manifest=put')
        etag = conn.head_object(container, name)['etag'].strip('"')
        if etag != checksum.hexdigest():
            raise StorageError('manifest %s: Swift ETag %s, expected %s'
                               % (name, etag, checksum.hexdigest()))
    except BaseException:
        _delete_quietly(conn, container,
                        [s['path'].split('/', 1)[1] for s in manifest])
        raise
    return checksum.hexdigest(), source.total


def _delete_quietly(conn, container: str, names: list[str]) -> None:
    for obj in names:
        try:
            conn.delete_object(container, obj)
        except Exception:  # noqa: S110  Swift may be the reason we fail
            pass


def load(conn, location: str, checksum: str) -> Iterator[bytes]:
    """Stream the backup at ``location``, checking it on the way.

    Before any byte: the manifest's ETag and the MD5 of its segments' ETags
    must both equal ``checksum``.  Each segment's bytes must then hash to
    its listed ETag and size (a segment damaged or replaced in Swift, or a
    short read, raises ``StorageError`` at the end of that segment).
    """
    container, name = split_location(location)
    headers, raw = conn.get_object(container, name,
                                   query_string='multipart-manifest=get')
    if headers.get('x-static-large-object', '').lower() != 'true':
        raise StorageError('%s is not a backup manifest' % location)
    segments = json.loads(raw)
    listed = _md5()
    for seg in segments:
        listed.update(seg['hash'].encode())
    head = conn.head_object(container, name)['etag'].strip('"')
    if listed.hexdigest() != checksum or head != checksum:
        raise StorageError(
            'checksum mismatch: expected %s, manifest lists %s, Swift '
            'ETag %s' % (checksum, listed.hexdigest(), head))
    for seg in segments:
        seg_container, seg_name = seg['name'].lstrip('/').split('/', 1)
        _, body = conn.get_object(seg_container, seg_name,
                                  resp_chunk_size=CHUNK)
        md5, size = _md5(), 0
        for chunk in body:
            md5.update(chunk)
            size += len(chunk)
            yield chunk
        if md5.hexdigest() != seg['hash'] or size != seg['bytes']:
            raise StorageError(
                'segment %s is damaged: %d bytes with MD5 %s, manifest '
                'says %d bytes with MD5 %s' % (
                    seg_name, size, md5.hexdigest(), seg['bytes'],
                    seg['hash']))

