"""A fresh, migrated PostgreSQL database for the replica tests: replicas share one database,
so these tests run on PostgreSQL only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import fresh_postgres


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with fresh_postgres("marac_replicas") as url:
        yield url
