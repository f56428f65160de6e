"""The answers a runtime is still making to a running CLI's questions: each its own task, cancelled when the
CLI asks to, or when the CLI stops; close() waits for them, so whatever they close is told before the turn
ends."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any


class AnswersInFlight:
    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}  # by the question's id

    def start(self, question_id: str, answer: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(answer)
        self._tasks[question_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(question_id, None))

    def cancel(self, question_id: str) -> None:
        if (task := self._tasks.pop(question_id, None)) is not None:
            task.cancel()

    def cancel_all(self) -> None:
        for task in self._tasks.values():
            task.cancel()

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
