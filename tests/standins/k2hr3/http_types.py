"""Request/reply values passed between the HTTP server and handlers."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

DEBUG_VALUES = ('on', '1', 'debug', 'dbg', 'ok')


class ApiError(Exception):
    """An error reply: JSON ``{"result":false,"message":...}``."""

    def __init__(self, status: int, message: str, *,
                 body_on_delete: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        #: DELETE errors have no body unless the real handler passes its
        #: message on (as the resource delete does, third capture D1).
        self.body_on_delete = body_on_delete


@dataclasses.dataclass
class Reply:
    status: int
    body: dict | None = None


def ok(status: int = 200, **fields: Any) -> Reply:
    return Reply(status, {'result': True, 'message': None, **fields})


def created() -> Reply:
    return ok(201)


def no_content() -> Reply:
    return Reply(204)


@dataclasses.dataclass
class Request:
    method: str
    path: str                                # percent-decoded
    query: dict[str, str]                    # first value of each name
    headers: dict[str, str]                  # lower-case names
    body: bytes
    client_ip: str

    def arg(self, name: str) -> str | None:
        return self.query.get(name)

    def json(self) -> Any:
        """The JSON body (None when empty); malformed JSON is the real
        400 "Internal server error"."""
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise ApiError(400, 'Internal server error') from exc

    @property
    def debug(self) -> bool:
        return self.headers.get('x-k2hr3-debug', '').lower() in DEBUG_VALUES


def compact(value: Any) -> str:
    """JSON.stringify() form (what the real server writes)."""
    return json.dumps(value, separators=(',', ':'), ensure_ascii=False)


def json_arg(text: str | None) -> Any:
    """A PUT query argument holding a JSON value (or a bare string)."""
    if text is None:
        return None
    if text == '':
        return ''
    try:
        return json.loads(text)
    except ValueError:
        return text


def as_list(value: Any) -> list | None:
    """A field that K2HR3 takes as one value or a list: None stays None
    (not given), '' is the empty list (clear it)."""
    if value is None:
        return None
    if value == '':
        return []
    return list(value) if isinstance(value, list) else [value]
