"""ListAllSessions over a thousand sessions: newest first, each exactly once, a page at a time."""

from __future__ import annotations

import asyncio
import base64
import json
import random
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import grpc
import pytest

from agent_runtime._gen.agentruntime.v1 import persistence_pb2 as pb
from tests.conformance.helpers import EPOCH_2026, create_session, expect_error, full_record, new_session_id

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.persistence_pb2_grpc import PersistenceAdapterAsyncStub as Storage

COUNT = 1000
MAX_PAGES = 10_000  # a walk that needs more pages than this never ends


def created_us(record: pb.SessionRecord) -> int:
    return record.created_at.ToMicroseconds()


@pytest.fixture(scope="module")
async def thousand(storage: Storage) -> AsyncIterator[dict[str, pb.SessionRecord]]:
    """COUNT stored sessions by id; four at a time share a created_at, and the groups lie 1.234567 s apart."""
    base_us = (EPOCH_2026 + 30 * 86400) * 1_000_000
    records = []
    for index in range(COUNT):
        record = full_record(new_session_id())
        record.created_at.FromMicroseconds(base_us + (index // 4) * 1_234_567)
        records.append(record)
    random.Random(7).shuffle(records)  # stored in no particular order
    for start in range(0, COUNT, 100):
        await asyncio.gather(*(create_session(storage, record) for record in records[start : start + 100]))
    yield {record.session_id: record for record in records}


async def walk(storage: Storage, page_size: int, token: str = "") -> list[list[pb.SessionRecord]]:
    """Every page from `token` (the first page when empty) until one comes back without a next_page_token."""
    pages: list[list[pb.SessionRecord]] = []
    for _ in range(MAX_PAGES):
        response = await storage.ListAllSessions(pb.ListAllSessionsRequest(page_size=page_size, page_token=token))
        pages.append(list(response.sessions))
        token = response.next_page_token
        if not token:
            return pages
    raise AssertionError(f"still a next_page_token after {MAX_PAGES} pages")


def assert_newest_first(records: list[pb.SessionRecord]) -> None:
    times = [created_us(record) for record in records]
    assert times == sorted(times, reverse=True), "sessions are not listed newest first"


async def test_pages_hold_every_session_exactly_once_newest_first(
    storage: Storage, thousand: dict[str, pb.SessionRecord]
) -> None:
    pages = await walk(storage, page_size=37)  # page edges fall inside groups of equal created_at

    listed = [record for page in pages for record in page]
    ids = [record.session_id for record in listed]
    assert all(len(page) <= 37 for page in pages)
    assert len(ids) == len(set(ids)), "a session is listed on more than one page"
    assert set(thousand) <= set(ids), f"{len(set(thousand) - set(ids))} sessions are missing from the listing"
    assert_newest_first(listed)
    ours = {record.session_id: record for record in listed if record.session_id in thousand}
    assert ours == thousand, "the listed records differ from the stored ones"


async def test_page_size_zero_means_100_and_large_sizes_are_lowered_to_1000(
    storage: Storage, thousand: dict[str, pb.SessionRecord]
) -> None:
    sizes = {}
    for requested in (0, 1, 1000, 1001, 5000):
        response = await storage.ListAllSessions(pb.ListAllSessionsRequest(page_size=requested))
        sizes[requested] = len(response.sessions)
        assert response.next_page_token or requested >= 1000, f"page_size={requested}: no next page"
    assert sizes == {0: 100, 1: 1, 1000: 1000, 1001: 1000, 5000: 1000}


async def test_default_pages_end_with_an_empty_token(storage: Storage, thousand: dict[str, pb.SessionRecord]) -> None:
    pages = await walk(storage, page_size=0)

    assert len(pages) >= COUNT // 100
    assert all(len(page) <= 100 for page in pages)
    ids = [record.session_id for page in pages for record in page]
    assert len(ids) == len(set(ids))
    assert set(thousand) <= set(ids)


async def test_a_walk_is_not_thrown_by_sessions_created_meanwhile(
    storage: Storage, thousand: dict[str, pb.SessionRecord]
) -> None:
    first = await storage.ListAllSessions(pb.ListAllSessionsRequest(page_size=100))
    middle = sorted(thousand.values(), key=created_us)[COUNT // 2]
    for when in (middle.created_at.ToMicroseconds(), (EPOCH_2026 + 365 * 86400) * 1_000_000, 1_000_000):
        record = full_record(new_session_id())  # newer than all, as old as one in the middle, and older than all
        record.created_at.FromMicroseconds(when)
        await create_session(storage, record)

    rest = await walk(storage, 100, first.next_page_token)

    ids = [record.session_id for page in [list(first.sessions), *rest] for record in page]
    assert len(ids) == len(set(ids)), "a session is listed twice"
    assert set(thousand) <= set(ids), "a session stored throughout the walk was skipped"


GARBAGE_TOKENS = {
    "word": "garbage",
    "punctuation": "!!!",
    "percent": "%%%%",
    "random-base64": base64.urlsafe_b64encode(random.Random(3).randbytes(48)).decode(),
    "huge-number": base64.urlsafe_b64encode(json.dumps([10**30, "x"]).encode()).decode(),
    "truncated": "",  # the first half of a real token, made in the test
}


@pytest.mark.parametrize("token", GARBAGE_TOKENS.values(), ids=GARBAGE_TOKENS.keys())
async def test_a_page_token_the_server_did_not_issue_is_invalid(
    storage: Storage, thousand: dict[str, pb.SessionRecord], token: str
) -> None:
    if not token:
        real = (await storage.ListAllSessions(pb.ListAllSessionsRequest(page_size=10))).next_page_token
        token = real[: len(real) // 2]

    await expect_error(
        storage.ListAllSessions(pb.ListAllSessionsRequest(page_token=token)),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_PAGE_TOKEN",
    )
