"""A fresh, migrated PostgreSQL database for the replica tests: replicas share one database,
so these tests run on PostgreSQL only."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from storage.migrate import upgrade
from tests.conftest import _postgres_admin


@pytest.fixture
def postgres_url() -> Iterator[str]:
    name = f"marac_replicas_{secrets.token_hex(6)}"
    _postgres_admin(f'CREATE DATABASE "{name}"')
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
