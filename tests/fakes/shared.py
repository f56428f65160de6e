"""What the HTTP fakes of model APIs have in common on the serving side: named scripts of answers, the record of
what a fake was sent, the handler that answers every request, and the ways an answer can be cut short.

Scripts and recordings are filled by one thread (the test's, or the fake's) and read by the other, so every
access holds a lock and readers get copies.
"""

from __future__ import annotations

import abc
import collections
import json
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiohttp import web

AnswerT = TypeVar("AnswerT")
RequestT = TypeVar("RequestT")

# The header that selects a script; requests without it take from DEFAULT_SCRIPT.
SCRIPT_HEADER = "x-fake-script"
DEFAULT_SCRIPT = "default"
MAX_BODY_BYTES = 64 * 1024 * 1024


class Scripts(Generic[AnswerT]):
    """Named queues of answers; a request takes the next answer of the script it selects."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, collections.deque[AnswerT]] = collections.defaultdict(collections.deque)
        self._repeating: dict[str, tuple[AnswerT, ...]] = {}

    def add(self, name: str, answers: Iterable[AnswerT]) -> None:
        with self._lock:
            self._queues[name].extend(answers)

    def repeat(self, name: str, answers: Iterable[AnswerT]) -> None:
        """The script answers these, and again from the first once it has none left (a demo's model)."""
        with self._lock:
            self._repeating[name] = tuple(answers)
            self._queues[name].extend(self._repeating[name])

    def take(self, name: str) -> AnswerT | None:
        """The script's next answer, or None when it has none left (or was never given any)."""
        with self._lock:
            queue = self._queues.get(name)
            if not queue and name in self._repeating:
                queue = self._queues[name]
                queue.extend(self._repeating[name])
            return queue.popleft() if queue else None

    def remaining(self, name: str) -> int:
        with self._lock:
            return len(self._queues.get(name, ()))

    def discard(self, name: str) -> int:
        """Drops the script's answers that no request took; returns how many."""
        with self._lock:
            return len(self._queues.pop(name, ()))


class Recording(Generic[RequestT]):
    """Every request a fake got, and the calls it did not expect (which fail the test on the way out)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[RequestT] = []
        self._unexpected: list[str] = []
        self._text_sent: list[float] = []

    def request(self, request: RequestT) -> None:
        with self._lock:
            self._requests.append(request)

    def unexpected(self, description: str) -> None:
        with self._lock:
            self._unexpected.append(description)

    def text_sent(self) -> None:
        """A streamed answer's first piece of text was just written (time.perf_counter, for latency figures)."""
        with self._lock:
            self._text_sent.append(time.perf_counter())

    @property
    def text_sent_at(self) -> list[float]:
        with self._lock:
            return list(self._text_sent)

    @property
    def requests(self) -> list[RequestT]:
        with self._lock:
            return list(self._requests)

    @property
    def unexpected_calls(self) -> list[str]:
        with self._lock:
            return list(self._unexpected)


@dataclass(frozen=True)
class HttpRequest:
    """What every fake records of a request; each fake's RecordedRequest adds what its API's calls carry."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # names in lower case
    body: Any  # the parsed JSON body; None when there was none or it was not JSON

    def _body_get(self, key: str) -> Any:
        """The body's `key`, or None when it has none or is not a JSON object."""
        return self.body.get(key) if isinstance(self.body, dict) else None


def nested_dicts(items: Iterable[Mapping[str, Any]], key: str) -> list[dict[str, Any]]:
    """The objects in each item's list `key`, in order: the blocks of messages, the parts of contents."""
    lists = [item[key] for item in items if isinstance(item.get(key), list)]
    return [inner for found in lists for inner in found if isinstance(inner, dict)]


def pieces(content: str, count: int) -> list[str]:
    """`content` cut into `count` nearly equal, non-empty pieces (fewer when it is shorter than `count`), the
    deltas or chunks a stream sends it in."""
    count = max(1, min(count, len(content)))
    size, extra = divmod(len(content), count)
    result, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        result.append(content[start:end])
        start = end
    return [piece for piece in result if piece]


def script_of(request: web.Request) -> str:
    """The script a scripted call takes its answer from: the one its header names, else the default one."""
    return request.headers.get(SCRIPT_HEADER, DEFAULT_SCRIPT)


class Handler(abc.ABC, Generic[AnswerT, RequestT]):
    """Answers a fake's requests from its scripts and records them; it gets every request, whatever the method
    and path, so that a call to an endpoint the fake lacks is recorded as unexpected rather than lost."""

    def __init__(self, api_key: str, scripts: Scripts[AnswerT], recording: Recording[RequestT]) -> None:
        self.api_key = api_key
        self.scripts = scripts
        self.recording = recording

    @abc.abstractmethod
    async def handle(self, request: web.Request) -> web.StreamResponse: ...

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_route("*", "/{path:.*}", self.handle)
        return app


def json_or_none(raw: bytes) -> Any:
    """The parsed JSON body, or None when there is none or it is not JSON."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


async def cut_short(request: web.Request, body: bytes, headers: Mapping[str, str]) -> web.StreamResponse:
    """The first half of `body`, whose content-length promised all of it, then the connection dropped."""
    response = web.StreamResponse(headers=headers)
    response.content_length = len(body)
    await response.prepare(request)
    await response.write(body[: len(body) // 2])
    drop_connection(request)
    return response


def drop_connection(request: web.Request) -> None:
    """Closes the connection mid-body; what was written is still delivered. aiohttp then finds it cannot end
    the response and lets the connection go quietly."""
    assert request.transport is not None
    request.transport.close()
