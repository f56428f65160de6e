"""A request's JSON body made into its gRPC request. A large one is parsed in a worker process: parsing
JSON and converting it to protobuf hold the GIL, so on a thread tens of MiB of it would still hold every
other caller up; the worker hands back the serialized message, which the runtime reads in C at once."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from google.protobuf import descriptor, descriptor_pool, json_format, message, message_factory

import agent_runtime._gen.agentruntime.v1.agent_runtime_pb2  # noqa: F401  # the worker looks its types up
from agent_runtime.rest.costly_json import check_separators, check_struct_sizes
from agent_runtime.rest.enum_names import with_full_enum_names
from agent_runtime.rest.errors import RequestError

PARSE_IN_PROCESS_BYTES = 1024 * 1024


class BodyParser:
    """Parses bodies up to PARSE_IN_PROCESS_BYTES here and larger ones in one worker process, started
    when the first one arrives (spawned: forking a process that runs gRPC's threads is not safe)."""

    def __init__(self) -> None:
        self._worker: ProcessPoolExecutor | None = None

    async def message(
        self, input_type: descriptor.Descriptor, body_field: str, document: dict[str, Any], raw: bytes,
        overrides: dict[str, Any],
    ) -> message.Message:  # fmt: skip
        """`document`, then the body (as the field `body_field`, or "*": the whole request), then
        `overrides`, each over the last."""
        if len(raw) <= PARSE_IN_PROCESS_BYTES:
            return built(input_type, body_field, document, raw, overrides)
        if self._worker is None:
            self._worker = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        try:
            serialized = await asyncio.get_running_loop().run_in_executor(
                self._worker, serialized_message, input_type.full_name, body_field, document, raw, overrides
            )
        except BrokenProcessPool:  # the worker died (killed, out of memory): the next body gets a new one
            self._worker = None
            raise
        return message_factory.GetMessageClass(input_type).FromString(serialized)

    def close(self) -> None:
        if self._worker is not None:
            self._worker.shutdown(wait=False, cancel_futures=True)


def serialized_message(
    type_name: str, body_field: str, document: dict[str, Any], raw: bytes, overrides: dict[str, Any]
) -> bytes:
    """What the worker runs."""
    input_type = descriptor_pool.Default().FindMessageTypeByName(type_name)
    return built(input_type, body_field, document, raw, overrides).SerializeToString()


def built(
    input_type: descriptor.Descriptor, body_field: str, document: dict[str, Any], raw: bytes,
    overrides: dict[str, Any],
) -> message.Message:  # fmt: skip
    document = dict(document)
    if raw:
        check_separators(raw)
        try:
            parsed = json.loads(raw)
        except ValueError as error:
            raise RequestError("MALFORMED_JSON", f"the body is not JSON: {error}") from None
        except RecursionError:
            raise RequestError("MALFORMED_JSON", "the body is nested too deeply") from None
        if body_field == "*" and not isinstance(parsed, dict):
            raise RequestError("MALFORMED_JSON", "the body must be a JSON object")
        document |= parsed if body_field == "*" else {body_field: parsed}
    _override(document, overrides)
    check_struct_sizes(document, input_type)
    request = message_factory.GetMessageClass(input_type)()
    try:
        json_format.ParseDict(with_full_enum_names(document, input_type), request)
    except json_format.ParseError as error:
        raise RequestError("INVALID_JSON_FIELD", str(error)) from None
    return request


def _override(document: dict[str, Any], overrides: dict[str, Any]) -> None:
    """Sets each override in `document`; a dotted name ("profile.id", from a path) inside its message."""
    for name, value in overrides.items():
        *parents, leaf = name.split(".")
        target = document
        for parent in parents:
            inner = target.get(parent)
            if inner is None:
                inner = target[parent] = {}
            if not isinstance(inner, dict):
                raise RequestError("MALFORMED_JSON", f"{parent!r} must be a JSON object")
            target = inner
        target[leaf] = value
