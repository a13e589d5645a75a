"""Alembic, driven from code so that `marac db upgrade` needs no alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


async def is_current(url: str) -> bool:
    """Whether the database has every migration this code expects."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from storage.database import create_engine

    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(
                lambda sync: set(MigrationContext.configure(sync).get_current_heads())
            )
    finally:
        await engine.dispose()
    return current == heads



def downgrade(url: str, revision: str) -> None:
    """Undo migrations down to `revision` (a revision id, or -1 for the last one)."""
    command.downgrade(alembic_config(url), revision)


def head() -> str:
    """The revision this code expects."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    return ", ".join(sorted(heads))


async def current(url: str) -> list[str]:
    """The revisions the database is at (none: an empty database)."""
    from alembic.runtime.migration import MigrationContext

    from storage.database import create_engine

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return sorted(await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_heads()))
    finally:
        await engine.dispose()
