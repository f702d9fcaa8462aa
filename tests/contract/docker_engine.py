"""A scripted Docker Engine behind the real docker SDK: a requests adapter
mounted on ``DockerClient.api`` that records every HTTP request the SDK
builds and answers as the Engine API does, with no engine. One container,
``database``, absent until created."""

from __future__ import annotations

import json
import re
import socket
import struct
from types import SimpleNamespace
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

import docker
import requests

API_VERSION = '1.45'
_ID = 'c0ffee'


def _meaningful(value):
    """The body without null/empty members (the SDK's defaults)."""
    if isinstance(value, dict):
        out = {k: _meaningful(v) for k, v in value.items()}
        return {k: v for k, v in out.items()
                if v not in (None, {}, [], '', False)}
    return value


class Engine(requests.adapters.BaseAdapter):
    def __init__(self, running: bool = False, exec_output: bytes = b''):
        super().__init__()
        self.exists = running
        self.calls: list[dict] = []
        self.exec_output = exec_output

    def client(self) -> docker.DockerClient:
        client = docker.DockerClient(base_url='tcp://127.0.0.1:2375',
                                     version=API_VERSION)
        client.api.mount('http://', self)
        return client

    def send(self, request, **kwargs):
        url = urlsplit(request.url)
        path = re.sub(r'^/v[0-9.]+', '', url.path)
        body = json.loads(request.body) if request.body else None
        self.calls.append({'method': request.method, 'path': path,
                           'query': dict(parse_qsl(url.query)),
                           'body': _meaningful(body)})
        status, payload = self._reply(request.method, path)
        resp = requests.Response()
        resp.status_code = status
        resp.url = request.url
        resp.request = request
        if isinstance(payload, bytes):
            resp.raw = _frames(payload)
        else:
            resp._content = json.dumps(payload).encode()
            resp.headers['Content-Type'] = 'application/json'
        return resp

    def close(self):
        pass

    def _state(self):
        return {'Id': _ID, 'Name': '/database',
                'State': {'Status': 'running'}, 'Config': {}}

    def _reply(self, method, path):
        name = path.split('/')[2] if path.startswith('/containers/') else ''
        if method == 'GET' and path.endswith('/json') and name in (
                'database', _ID):
            if not self.exists:
                return 404, {'message': 'No such container: database'}
            return 200, self._state()
        if path == '/containers/create':
            self.exists = True
            return 201, {'Id': _ID, 'Warnings': []}
        if path == '/containers/%s/exec' % _ID:
            return 201, {'Id': 'e1'}
        if path == '/exec/e1/start':
            return 200, self.exec_output
        if path == '/exec/e1/json':
            return 200, {'ExitCode': 0, 'Running': False}
        if method == 'DELETE':
            self.exists = False
        return 204, {}


def _frames(output: bytes):
    """An exec's attached stream as the SDK reads it from the socket."""
    reader, writer = socket.socketpair()
    if output:
        writer.sendall(struct.pack('>BxxxL', 1, len(output)) + output)
    writer.close()
    return SimpleNamespace(_fp=SimpleNamespace(fp=SimpleNamespace(
        raw=reader), chunked=False), close=reader.close)
