"""The Alembic migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from storage.models import Base


async def test_migrated_schema_matches_the_models(store):
    def differences(connection):
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)

    async with store.engine.connect() as connection:
        assert await connection.run_sync(differences) == []
