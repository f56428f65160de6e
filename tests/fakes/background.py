"""A fake served by its own event loop on its own thread, so that a test blocked in a subprocess call, or a
synchronous client, cannot stall it."""

from __future__ import annotations

import abc
import asyncio
import concurrent.futures
import threading
from collections.abc import Callable


class ServedInBackground(abc.ABC):
    def __init__(self, thread_name: str) -> None:
        self._ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)

    @abc.abstractmethod
    async def _serve(self, ready: Callable[[], None], stop: asyncio.Event) -> None:
        """Starts serving, calls `ready()`, serves until `stop` is set, then cleans up."""

    async def start(self) -> None:
        self._thread.start()
        await asyncio.wrap_future(self._ready)

    async def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        await asyncio.to_thread(self._thread.join)

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._main())
        except BaseException as error:
            if not self._ready.done():
                self._ready.set_exception(error)
            raise
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        await self._serve(lambda: self._ready.set_result(None), self._stop)
