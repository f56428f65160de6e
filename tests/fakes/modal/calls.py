"""What the fake was asked: every RPC by name, and every one it does not implement.

The servicers are written on the grpclib bases generated in `modal_proto`; `answering_unimplemented`
makes each RPC a servicer leaves out answer UNIMPLEMENTED and record itself, so a `modal` upgrade that
needs a new RPC fails the tests instead of passing unnoticed.
"""

from __future__ import annotations

import collections
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ParamSpec, Protocol, TypeVar, cast

import grpclib.const
from grpclib import GRPCError, Status
from grpclib.server import Stream


@dataclass
class CallLog:
    calls: collections.Counter[str] = field(default_factory=collections.Counter)
    unimplemented: list[str] = field(default_factory=list)


class Logged(Protocol):
    log: CallLog


Servicer = TypeVar("Servicer")
Args = ParamSpec("Args")


def answering_unimplemented(servicer: Callable[Args, Servicer]) -> Callable[Args, Servicer]:
    """A concrete subclass of the servicer class in which every RPC it leaves abstract answers UNIMPLEMENTED."""
    base = cast(type, servicer)
    missing: frozenset[str] = getattr(base, "__abstractmethods__", frozenset())
    namespace = {name: _unimplemented(name) for name in missing}
    return cast(Callable[Args, Servicer], type(base.__name__, (base,), namespace))


def _unimplemented(name: str) -> Callable[[Logged, Stream[Any, Any]], Awaitable[None]]:
    async def rpc(self: Logged, stream: Stream[Any, Any]) -> None:
        self.log.unimplemented.append(name)
        raise GRPCError(Status.UNIMPLEMENTED, f"the fake Modal does not implement {name}")

    rpc.__name__ = name
    return rpc


Guard = Callable[[str, Stream[Any, Any]], None]


def guarded(mapping: Mapping[str, grpclib.const.Handler], log: CallLog, guard: Guard) -> dict[str, Any]:
    """The servicer's handlers, each counting its calls and passing `guard` (authentication) first."""

    def wrap(name: str, func: Callable[[Stream[Any, Any]], Awaitable[None]]) -> Any:
        async def handle(stream: Stream[Any, Any]) -> None:
            log.calls[name] += 1
            guard(name, stream)
            await func(stream)

        return handle

    return {
        path: handler._replace(func=wrap(path.rsplit("/", 1)[-1], handler.func)) for path, handler in mapping.items()
    }


def header(stream: Stream[Any, Any], name: str) -> str | None:
    """One request header (invocation metadata) as text, if the client sent it."""
    value = stream.metadata.get(name) if stream.metadata is not None else None
    return value if isinstance(value, str) else None
