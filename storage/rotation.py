"""Key rotation: re-encrypt every encrypted value with the first configured key, so that an
old key can then be removed from MARAC_ENCRYPTION_KEYS."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import EncryptedJSON, EncryptedText, keyring
from storage.models import Base


def encrypted_columns() -> dict[str, list[str]]:
    """Each table's encrypted columns."""
    found: dict[str, list[str]] = {}
    for table in Base.metadata.sorted_tables:
        names = [c.name for c in table.columns
                 if isinstance(c.type, EncryptedText | EncryptedJSON)]
        if names:
            found[table.name] = names
    return found


async def rotate_all(session: AsyncSession) -> int:
    """The number of values re-encrypted. Raw SQL, so the stored tokens are read as they
    are rather than decrypted by the column types."""
    rotated = 0
    ring = keyring()
    for table, names in encrypted_columns().items():
        rows = (await session.execute(text(
            f"SELECT id, {', '.join(names)} FROM {table}"))).all()  # noqa: S608 (our names)
        for row in rows:
            values = {name: ring.rotate(token)
                      for name, token in zip(names, row[1:], strict=True) if token is not None}
            if values:
                assignments = ", ".join(f"{name} = :{name}" for name in values)
                await session.execute(text(f"UPDATE {table} SET {assignments} WHERE id = :id"),
                                      {**values, "id": row[0]})
                rotated += len(values)
    return rotated


async def check_keys(session: AsyncSession) -> tuple[int, int]:
    """(values the configured keys decrypt, values they do not): after a restore or a
    rotation, whether the keys at hand open the data, before anyone relies on it."""
    opened = refused = 0
    ring = keyring()
    for table, names in encrypted_columns().items():
        rows = (await session.execute(text(
            f"SELECT {', '.join(names)} FROM {table}"))).all()  # noqa: S608 (our names)
        for token in (token for row in rows for token in row if token is not None):
            try:
                ring.decrypt(token)
            except ValueError:
                refused += 1
            else:
                opened += 1
    return opened, refused
