"""Identifying data is encrypted at rest: the raw SQLite file and the raw PostgreSQL rows
reveal no name, reference or free text, and keys rotate without losing anything."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
from cryptography.fernet import Fernet, MultiFernet
from sqlalchemy import select
from sqlalchemy.engine import make_url

from dialogs.demo import seed_demo
from dialogs.referrals import read_form, submit
from dialogs.triage import accept
from storage import crypto
from storage.models import Marac, Referral
from storage.rotation import rotate_all
from tests.store.referral_factory import card_payload

SECRETS = ["Zanthia", "ZX-REF-991", "Quillon", "Thornbury-Blake", "strangled her last week"]


async def refer_and_list(store, clock) -> int:
    async with store.unit_of_work() as session:
        await seed_demo(session, clock.now())
        marac = await session.scalar(select(Marac))
        assert marac is not None
        form = read_form(card_payload(
            victim_first_name="Zanthia", victim_reference="ZX-REF-991",
            perpetrator_first_name="Quillon", referrer_name="Thornbury-Blake",
            escalation="true", escalation_detail="He strangled her last week."),
            clock.now().date())
        referral = (await submit(session, marac, form, None, clock.now())).referral
        await accept(session, marac.id, referral.id, None, clock.now())
        return referral.id


async def raw_rows(store) -> str:
    """Everything the database holds, as a client without the keys would read it."""
    url = make_url(store.engine.url)
    if url.drivername.startswith("sqlite"):
        await store.engine.dispose()  # checkpoint the WAL into the file
        return Path(str(url.database)).read_bytes().decode("latin-1")  # noqa: ASYNC240
    connection = await asyncpg.connect(user="postgres", host="127.0.0.1", port=5432,
                                       database=url.database)
    try:
        tables = [r["tablename"] for r in await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        return "\n".join([str(await connection.fetch(f'SELECT * FROM "{t}"')) for t in tables])
    finally:
        await connection.close()


async def test_the_raw_database_reveals_no_identifying_data(store, clock):
    referral_id = await refer_and_list(store, clock)
    raw = await raw_rows(store)
    assert "RIV-2026-" in raw  # case numbers are not identifying and stay readable
    for secret in SECRETS:
        assert secret not in raw, f"{secret!r} is stored in clear"
    async with store.unit_of_work() as session:
        referral = await session.get_one(Referral, referral_id)
        assert (referral.victim_first_name, referral.perpetrator_first_name) == (
            "Zanthia", "Quillon")


async def test_keys_rotate_without_losing_anything(store, clock):
    referral_id = await refer_and_list(store, clock)
    old, new = crypto.DEVELOPMENT_KEY, Fernet.generate_key().decode()
    try:
        crypto.configure([new, old], crypto.DEVELOPMENT_INDEX_KEY)
        async with store.unit_of_work() as session:
            assert await rotate_all(session) > 10
        crypto.configure([new], crypto.DEVELOPMENT_INDEX_KEY)  # the old key is retired
        async with store.unit_of_work() as session:
            referral = await session.get_one(Referral, referral_id)
            assert referral.victim_reference == "ZX-REF-991"
        crypto.configure([old], crypto.DEVELOPMENT_INDEX_KEY)
        with pytest.raises(ValueError, match="cannot be decrypted"):
            async with store.unit_of_work() as session:
                await session.get_one(Referral, referral_id)
    finally:
        crypto.configure([old], crypto.DEVELOPMENT_INDEX_KEY)


class Counted:
    """A keyring's Fernet, counting its decrypts."""

    def __init__(self, fernet: MultiFernet) -> None:
        self.fernet, self.decrypts = fernet, 0

    def decrypt(self, token: bytes) -> bytes:
        self.decrypts += 1
        return self.fernet.decrypt(token)


def test_a_short_value_is_decrypted_once_a_long_one_each_time():
    keys = crypto.Keyring([Fernet.generate_key().decode()], "index")
    first_name, information = keys.encrypt("Priya"), keys.encrypt("x" * 500)
    keys.fernet = counted = Counted(keys.fernet)  # type: ignore[assignment]
    assert [keys.decrypt(first_name) for _ in range(3)] == ["Priya"] * 3
    assert counted.decrypts == 1
    assert [keys.decrypt(information) for _ in range(2)] == ["x" * 500] * 2
    assert counted.decrypts == 3


def test_a_value_kept_by_one_keyring_is_refused_by_keys_that_cannot_read_it():
    old = Fernet.generate_key().decode()
    token = crypto.Keyring([old], "index").encrypt("Priya")
    assert crypto.Keyring([old], "index").decrypt(token) == "Priya"
    with pytest.raises(ValueError, match="cannot be decrypted"):
        crypto.Keyring([Fernet.generate_key().decode()], "index").decrypt(token)
