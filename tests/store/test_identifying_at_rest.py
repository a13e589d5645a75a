"""Nothing identifying in clear at rest or in the logs (issue 13, finding 5): DASH answers and
police incident references are encrypted (the reference matched through its keyed index), the
conversation references kept for posting carry no display names, and a failed statement is
logged without its values. Migration 0005 converts rows written before it."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from botbuilder.schema import Activity
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.teams.conversation import seen
from dialogs.demo import DEMO_TEAM, DEMO_TENANT
from dialogs.installation import record_installation
from dialogs.police_feed import import_rows
from storage.crypto import blind_index, keyring
from storage.database import Store
from storage.migrate import upgrade
from storage.models import Base, Marac, Referral
from tests.conftest import _postgres_admin
from tests.store.referral_factory import card_payload, police_row, refer, seeded

INCIDENT = "INC-7781-Q"
DISPLAY_NAME = "Priya Shah"
DASH_KEY = "q01_injury"


def a_channel_activity() -> Activity:
    return Activity().deserialize({
        "type": "conversationUpdate", "id": "u1", "channelId": "msteams",
        "serviceUrl": "http://x/",
        "from": {"id": "user-id-3", "aadObjectId": "aad-priya", "name": DISPLAY_NAME},
        "recipient": {"id": "bot", "name": "MARAC Bot"},
        "conversation": {"id": DEMO_TEAM, "conversationType": "channel",
                         "tenantId": DEMO_TENANT, "name": "Priya Shah and Cara Okafor"},
        "channelData": {"tenant": {"id": DEMO_TENANT}, "team": {"id": DEMO_TEAM},
                        "channel": {"id": DEMO_TEAM}}})


async def raw_dump(store: Store) -> str:
    """Every row of every table, as the database holds it."""
    rows = []
    async with store.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            result = await connection.execute(text(f'SELECT * FROM "{table.name}"'))
            rows += [json.dumps([str(v) for v in row]) for row in result.all()]
    return "\n".join(rows)


async def test_the_raw_database_holds_no_dash_answer_incident_or_display_name(store, clock):
    marac_id = await seeded(store, clock)
    await refer(store, clock, marac_id, card_payload(yes=15))
    async with store.unit_of_work() as session:
        marac = await session.get_one(Marac, marac_id)
        report = await import_rows(session, marac, [(2, police_row(
            police_incident_ref=INCIDENT, victim_reference="RIV-V-7781"))], clock.now())
        assert len(report.refused) == 0, report.refused
        await record_installation(session, seen(a_channel_activity()), clock.now())
    async with store.unit_of_work() as session:  # the same incident again is linked, by index
        marac = await session.get_one(Marac, marac_id)
        again = await import_rows(session, marac, [(2, police_row(
            police_incident_ref=INCIDENT.lower(), victim_reference="RIV-V-7781"))],
            clock.now())
        assert [r.police_incident_ref for _, r in again.linked] == [INCIDENT]

    dump = await raw_dump(store)
    for word in (INCIDENT, DASH_KEY, '"yes"', "Shah", "MARAC Bot", "Cara Okafor"):
        assert word not in dump, word
    assert blind_index(INCIDENT) in dump and DEMO_TEAM in dump  # the index and the ids stay


async def test_a_failed_insert_is_logged_without_its_values(store, clock, caplog):
    marac_id = await seeded(store, clock)
    first = await refer(store, clock, marac_id, card_payload(police_incident_ref=INCIDENT))
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    with pytest.raises(IntegrityError) as failed:
        async with store.unit_of_work() as session:
            twin = await session.get_one(Referral, first.id)
            copy = {c.key: getattr(twin, c.key) for c in Referral.__mapper__.column_attrs
                    if c.key != "id"}
            session.add(Referral(**copy))  # the same incident index in the same MARAC
    logged = caplog.text + str(failed.value)  # PostgreSQL names the key: the keyed index only
    assert "[SQL parameters hidden due to hide_parameters=True]" in logged
    for word in (INCIDENT, "Jess", "RIV-V-0001", "Mark", "Imogen"):
        assert word not in logged, word


# --- migration 0005 converts what was written before it ------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def database_at_0004(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'before.db'}"
        upgrade(url, "0004")
        yield url
        return
    name = f"marac_test_0005_{secrets.token_hex(6)}"
    _postgres_admin(f'CREATE DATABASE "{name}"')
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    try:
        upgrade(url, "0004")
        yield url
    finally:
        _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _write_as_before(url: str) -> None:
    store = Store.from_url(url)
    now = datetime(2026, 11, 24, 14, tzinfo=UTC)
    statements = [
        ("INSERT INTO marac (id, name, area, tenant_id, case_prefix, meeting_weekday, "
         "meeting_time, triage_weekday, slot_seconds, warning_seconds, slots_per_meeting, "
         "earliest_working_days, latest_working_days, target_working_days, "
         "case_list_lead_working_days, agency_deadline_working_days, repeat_months, "
         "high_risk_threshold, bank_holidays, timezone, retention_days) VALUES (1, 'Old', "
         "'Old', 't', 'OLD', 2, '09:30:00', 3, 1200, 300, 12, 7, 14, 14, 4, 1, 12, 14, 'ENG', "
         "'Europe/London', 2190)", {}),
        ("INSERT INTO agency (id, marac_id, name, is_core, signed_sharing_agreement) "
         "VALUES (1, 1, 'Police', true, true)", {}),
        ("INSERT INTO referral (id, marac_id, source, police_incident_ref, victim_first_name, "
         "victim_reference, victim_index, victim_age_band, children_in_household, "
         "perpetrator_first_name, referring_agency_id, referrer_name, incident_date, "
         "received_on, area, honour_based_violence, dash_answers, dash_yes_count, escalation, "
         "escalation_detail, professional_judgement, rationale, risk_level, "
         "qualifying_reasons, decision_explanation, status, triage_note, created_at, "
         "updated_at) VALUES (1, 1, 'police_feed', :ref, :x, :x, 'x', '25-34', 0, :x, 1, "
         ":x, :day, :day, 'Old', false, :answers, 1, false, :x, false, :x, 'high', '[]', "
         "'', 'pending', :x, :now, :now)",
         {"ref": INCIDENT, "answers": json.dumps({DASH_KEY: "yes"}), "day": now.date(),
          "now": now, "x": keyring().encrypt("x")}),
        ("INSERT INTO conversation (id, conversation_id, kind, service_url, reference, "
         "installed_at) VALUES (1, 'c1', 'personal', 'http://x/', :reference, :now)",
         {"reference": json.dumps({"user": {"id": "u", "name": DISPLAY_NAME},
                                   "bot": {"id": "b", "name": "MARAC Bot"},
                                   "conversation": {"id": "c1"}}), "now": now}),
    ]
    try:
        async with store.engine.begin() as connection:
            for sql, values in statements:
                await connection.execute(text(sql), values)
    finally:
        await store.close()


def test_migration_0005_encrypts_existing_rows(database_at_0004):
    asyncio.run(_write_as_before(database_at_0004))
    upgrade(database_at_0004)
    asyncio.run(_converted(database_at_0004))


async def _converted(url: str) -> None:
    store = Store.from_url(url)
    try:
        dump = await raw_dump(store)
        for word in (INCIDENT, DASH_KEY, DISPLAY_NAME, "MARAC Bot"):
            assert word not in dump, word
        async with store.unit_of_work() as session:
            referral = await session.get_one(Referral, 1)
            assert referral.police_incident_ref == INCIDENT
            assert referral.police_incident_index == blind_index(INCIDENT)
            assert referral.dash_answers == {DASH_KEY: "yes"}
            reference = json.loads((await session.execute(text(
                "SELECT reference FROM conversation"))).scalar_one())
        assert reference == {"user": {"id": "u"}, "bot": {"id": "b"},
                             "conversation": {"id": "c1"}}
    finally:
        await store.close()
