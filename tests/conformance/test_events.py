"""AppendEvents and ReadEvents: a dense, ordered log per session, written only when the sequences fit."""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
import pytest

from agent_runtime._gen.agentruntime.v1 import events_pb2
from agent_runtime._gen.agentruntime.v1 import persistence_pb2 as pb
from tests.conformance.helpers import (
    create_session,
    expect_error,
    read_all_events,
    rich_events,
    sequences,
    text_events,
)

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.persistence_pb2_grpc import PersistenceAdapterAsyncStub as Storage


async def append(storage: Storage, session_id: str, expected: int, events: list[events_pb2.SessionEvent]) -> int:
    request = pb.AppendEventsRequest(session_id=session_id, expected_last_sequence=expected, events=events)
    return (await storage.AppendEvents(request)).last_sequence


async def read(storage: Storage, session_id: str, after: int = 0, limit: int = 0) -> pb.ReadEventsResponse:
    return await storage.ReadEvents(pb.ReadEventsRequest(session_id=session_id, after_sequence=after, limit=limit))


async def session_with_events(storage: Storage, count: int) -> str:
    session_id = (await create_session(storage)).session_id
    for first in range(1, count + 1, 500):
        size = min(500, count - first + 1)
        assert await append(storage, session_id, first - 1, text_events(session_id, first, size)) == first + size - 1
    return session_id


def serialized(events: list[events_pb2.SessionEvent]) -> list[bytes]:
    return [event.SerializeToString(deterministic=True) for event in events]


async def test_a_new_session_has_an_empty_log(storage: Storage) -> None:
    session_id = (await create_session(storage)).session_id

    page = await read(storage, session_id)

    assert (list(page.events), page.last_sequence) == ([], 0)


async def test_events_come_back_exactly_as_appended(storage: Storage) -> None:
    session_id = (await create_session(storage)).session_id
    events = rich_events(session_id, 1)

    last = await append(storage, session_id, 0, events)

    page = await read(storage, session_id)
    assert last == page.last_sequence == len(events)
    assert list(page.events) == events
    assert serialized(list(page.events)) == serialized(events)


async def test_appends_in_batches_make_one_dense_log(storage: Storage) -> None:
    session_id = (await create_session(storage)).session_id

    assert await append(storage, session_id, 0, text_events(session_id, 1, 1)) == 1
    assert await append(storage, session_id, 1, text_events(session_id, 2, 4)) == 5
    assert await append(storage, session_id, 5, rich_events(session_id, 6)) == 15

    events = await read_all_events(storage, session_id)
    assert sequences(events) == list(range(1, 16))
    assert serialized(events) == serialized(
        text_events(session_id, 1, 1) + text_events(session_id, 2, 4) + rich_events(session_id, 6)
    )


@pytest.mark.parametrize(
    ("expected", "first", "count"),
    [(2, 4, 2), (0, 4, 1), (4, 4, 2), (2, 3, 2), (4, 5, 2), (0, 1, 2), (100, 101, 1), (-1, 0, 1), (2, 4, 0)],
    ids=lambda value: str(value),
)
async def test_a_wrong_expected_last_sequence_is_aborted_and_writes_nothing(
    storage: Storage, expected: int, first: int, count: int
) -> None:
    session_id = await session_with_events(storage, 3)

    await expect_error(
        append(storage, session_id, expected, text_events(session_id, first, count, marker="stray")),
        grpc.StatusCode.ABORTED,
        "SEQUENCE_MISMATCH",
    )

    page = await read(storage, session_id)
    assert (sequences(list(page.events)), page.last_sequence) == ([1, 2, 3], 3)
    assert serialized(list(page.events)) == serialized(text_events(session_id, 1, 3))


@pytest.mark.parametrize(
    "numbers",
    [[5], [3], [0], [4, 4], [4, 6], [5, 4], [4, 5, 7], [4, 5, 6, 5]],
    ids=lambda numbers: ",".join(map(str, numbers)),
)
async def test_events_numbered_out_of_turn_are_aborted_and_none_written(storage: Storage, numbers: list[int]) -> None:
    session_id = await session_with_events(storage, 3)
    events = [text_events(session_id, number, 1, marker="stray")[0] for number in numbers]

    await expect_error(append(storage, session_id, 3, events), grpc.StatusCode.ABORTED, "SEQUENCE_MISMATCH")

    page = await read(storage, session_id)
    assert (sequences(list(page.events)), page.last_sequence) == ([1, 2, 3], 3)
    assert await append(storage, session_id, 3, text_events(session_id, 4, 1)) == 4, "the log still takes 4 next"


async def test_reading_after_a_sequence_pages_through_the_log(storage: Storage) -> None:
    session_id = await session_with_events(storage, 25)

    pages = [await read(storage, session_id, after=after, limit=10) for after in (0, 10, 20)]

    assert [sequences(list(page.events)) for page in pages] == [
        list(range(1, 11)),
        list(range(11, 21)),
        list(range(21, 26)),
    ]
    assert [page.last_sequence for page in pages] == [25, 25, 25]
    middle = await read(storage, session_id, after=7, limit=3)
    assert sequences(list(middle.events)) == [8, 9, 10]


@pytest.mark.parametrize("after", [25, 26, 1000])
async def test_reading_at_or_beyond_the_head_is_empty_and_tells_the_head(storage: Storage, after: int) -> None:
    session_id = await session_with_events(storage, 25)

    page = await read(storage, session_id, after=after)

    assert (list(page.events), page.last_sequence) == ([], 25)


async def test_limit_zero_means_256_and_large_limits_are_lowered_to_1000(storage: Storage) -> None:
    session_id = await session_with_events(storage, 1100)

    default = await read(storage, session_id, limit=0)
    capped = await read(storage, session_id, limit=5000)
    exact = await read(storage, session_id, after=1000, limit=1000)

    assert sequences(list(default.events)) == list(range(1, 257))
    assert sequences(list(capped.events)) == list(range(1, 1001))
    assert sequences(list(exact.events)) == list(range(1001, 1101))
    assert default.last_sequence == capped.last_sequence == exact.last_sequence == 1100


@pytest.mark.parametrize("field", ["after_sequence", "limit"])
async def test_negative_read_arguments_are_invalid(storage: Storage, field: str) -> None:
    session_id = await session_with_events(storage, 2)
    request = pb.ReadEventsRequest(session_id=session_id)
    setattr(request, field, -1)

    await expect_error(storage.ReadEvents(request), grpc.StatusCode.INVALID_ARGUMENT)


async def test_each_session_has_its_own_log(storage: Storage) -> None:
    first = await session_with_events(storage, 5)
    second = (await create_session(storage)).session_id

    assert await append(storage, second, 0, text_events(second, 1, 2, marker="second")) == 2

    assert serialized(await read_all_events(storage, first)) == serialized(text_events(first, 1, 5))
    assert serialized(await read_all_events(storage, second)) == serialized(text_events(second, 1, 2, "second"))


def sized_events(session_id: str, first: int, sizes_mib: list[float]) -> list[events_pb2.SessionEvent]:
    events = text_events(session_id, first, len(sizes_mib))
    for event, size in zip(events, sizes_mib, strict=True):
        event.block_delta.delta = "x" * int(size * 1024 * 1024)
    return events


async def test_a_page_holds_at_most_4_mib_of_events(storage: Storage) -> None:
    session_id = (await create_session(storage)).session_id
    await append(storage, session_id, 0, sized_events(session_id, 1, [1.5] * 6))

    first = await read(storage, session_id, limit=1000)
    everything = await read_all_events(storage, session_id)

    assert sequences(list(first.events)) == [1, 2], "a third 1.5 MiB event would pass 4 MiB"
    assert sequences(everything) == [1, 2, 3, 4, 5, 6]


async def test_an_event_larger_than_a_page_comes_alone(storage: Storage) -> None:
    session_id = (await create_session(storage)).session_id
    await append(storage, session_id, 0, sized_events(session_id, 1, [0.1, 5, 0.1]))

    pages = [await read(storage, session_id, after=after) for after in (0, 1, 2)]

    assert [sequences(list(page.events)) for page in pages] == [[1], [2], [3]]
    assert len(pages[1].events[0].block_delta.delta) == 5 * 1024 * 1024
