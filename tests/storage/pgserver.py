"""The PostgreSQL test server: its URL, or a skip (a failure where CI requires it)."""

from __future__ import annotations

import os

import pytest

REASON = "no PostgreSQL server: set LAPTRACE_TEST_POSTGRES_URL (bash .ci/postgres.sh DIR)"


def postgres_base_url() -> str:
    """``LAPTRACE_TEST_POSTGRES_URL``; without it skip, or fail under
    ``LAPTRACE_REQUIRE_POSTGRES=1`` (CI), so a skipped PostgreSQL half cannot pass CI."""
    url = os.environ.get("LAPTRACE_TEST_POSTGRES_URL")
    if url:
        return url
    if os.environ.get("LAPTRACE_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"LAPTRACE_REQUIRE_POSTGRES=1 but {REASON}")
    pytest.skip(REASON)
