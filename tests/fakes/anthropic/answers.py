"""The scripts: named queues of answers, one taken per `POST /v1/messages` that selects the script.

A request selects a script by the `x-fake-script` header (the Claude Code CLI sends one through
ANTHROPIC_CUSTOM_HEADERS); without the header it takes from the script named "default". Filled by the test's
thread and emptied by the fake's, so every access holds a lock.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterable

from tests.fakes.anthropic.script import Answer

SCRIPT_HEADER = "x-fake-script"
DEFAULT_SCRIPT = "default"


class Scripts:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, collections.deque[Answer]] = collections.defaultdict(collections.deque)

    def add(self, name: str, answers: Iterable[Answer]) -> None:
        with self._lock:
            self._queues[name].extend(answers)

    def take(self, name: str) -> Answer | None:
        """The script's next answer, or None when it has none left (or was never given any)."""
        with self._lock:
            queue = self._queues.get(name)
            return queue.popleft() if queue else None

    def remaining(self, name: str) -> int:
        with self._lock:
            return len(self._queues.get(name, ()))
