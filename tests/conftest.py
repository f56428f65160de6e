"""Options of the whole test suite.

pytest accepts an option on the command line only when the conftest.py declaring it is loaded before the
arguments are parsed, which this top one always is; the storage conformance suite's options live here so that
`pytest --storage-address ...` works however the tests are selected.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("storage conformance (tests/conformance)")
    group.addoption(
        "--storage-address",
        metavar="ADDRESS",
        help="run the storage conformance suite against this PersistenceAdapter server "
        "(grpc://host:port, host:port or unix:PATH) instead of the built-in ones",
    )
    group.addoption(
        "--storage-profile-id",
        metavar="ID",
        help="an agent profile the server at --storage-address is known to have; "
        "without it the checks that need a known profile are skipped",
    )
