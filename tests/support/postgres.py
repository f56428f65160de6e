"""A database of its own on the PostgreSQL server the tests use, dropped afterwards.

The server is AGENT_RUNTIME_TEST_POSTGRES (a URL of an existing database to connect to for creating and
dropping; default: the local server's `postgres` database as user postgres). `.ci/run` starts the local
server when it is not running and sets AGENT_RUNTIME_REQUIRE_POSTGRES, so that there a missing server fails
the tests; elsewhere (a newcomer's machine without PostgreSQL) they are skipped, saying why.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import Iterator
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

import pytest

ADMIN_URL = os.environ.get("AGENT_RUNTIME_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def _unavailable(why: str) -> NoReturn:
    if os.environ.get("AGENT_RUNTIME_REQUIRE_POSTGRES"):
        pytest.fail(why)
    pytest.skip(why)


def _psql(sql: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["psql", ADMIN_URL, "-v", "ON_ERROR_STOP=1", "-qc", sql], capture_output=True, text=True)


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """The URL of a new, empty database."""
    name = f"agent_runtime_test_{uuid.uuid4().hex[:12]}"
    try:
        created = _psql(f"CREATE DATABASE {name}")
    except FileNotFoundError:
        _unavailable("PostgreSQL tests need psql and a server (AGENT_RUNTIME_TEST_POSTGRES); psql is not installed")
    if created.returncode != 0:
        _unavailable(f"PostgreSQL tests need a server at AGENT_RUNTIME_TEST_POSTGRES ({ADMIN_URL}): {created.stderr}")
    try:
        yield urlunsplit(urlsplit(ADMIN_URL)._replace(path=f"/{name}"))
    finally:
        _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
