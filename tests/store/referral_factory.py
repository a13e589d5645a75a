"""Shared helpers for the referral, triage, scheduling and police-feed tests: payloads as a
card or the police feed would send them, and one-line ways to seed, refer and accept."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from dialogs import triage
from dialogs.dash import QUESTIONS
from dialogs.demo import DEMO_AGENCIES, DEMO_MARAC, seed_demo
from dialogs.police_feed import COLUMNS
from dialogs.referrals import read_form, submit
from dialogs.scheduling import local_today
from storage.models import Agency, Case, Marac, Referral

LONDON = ZoneInfo("Europe/London")
OMIT = object()  # an override that leaves the field out of the payload altogether


def dash_answers(yes: int, otherwise: str = "no") -> dict[str, str]:
    """All 24 checklist answers, the first `yes` of them yes."""
    return {q.key: "yes" if n < yes else otherwise for n, q in enumerate(QUESTIONS)}


def _apply(payload: dict[str, object], overrides: dict[str, object]) -> dict[str, object]:
    for key, value in overrides.items():
        if value is OMIT:
            payload.pop(key, None)
        else:
            payload[key] = value
    return payload


def card_payload(yes: int = 14, **overrides: object) -> dict[str, object]:
    """The referral card's inputs, as Teams sends them (strings, toggles as "true"/"false")."""
    payload: dict[str, object] = {
        "victim_first_name": "Jess", "victim_reference": "RIV-V-0001",
        "victim_age_band": "25-34", "children_in_household": "0",
        "perpetrator_first_name": "Mark", "referring_agency": "IDVA Service",
        "referrer_name": "Imogen Reid", "incident_date": "2026-11-20",
        "received_on": "2026-11-24", "area": "Riverside", "honour_based_violence": "false",
        "escalation": "false", "escalation_detail": "", "professional_judgement": "false",
        "rationale": "", **dash_answers(yes),
    }
    return _apply(payload, overrides)


def police_row(**overrides: object) -> dict[str, object]:
    """One row of the police feed: a yes-count instead of the 24 answers."""
    row: dict[str, object] = {
        "police_incident_ref": "INC-1001", "incident_date": "2026-11-20",
        "received_on": "2026-11-23", "victim_first_name": "Kira",
        "victim_reference": "RIV-V-2001", "victim_age_band": "18-24",
        "children_in_household": "1", "perpetrator_first_name": "Dale",
        "referring_agency": "Police", "referrer_name": "PC Dana Webb", "area": "Riverside",
        "honour_based_violence": "no", "dash_yes_count": "15", "escalation": "no",
        "escalation_detail": "", "professional_judgement": "no", "rationale": "",
    }
    return _apply(row, overrides)


def csv_bytes(rows: list[dict[str, object]], columns: tuple[str, ...] = COLUMNS,
              bom: bool = False, encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore",
                            lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode(encoding) + out.getvalue().encode(encoding)


def at(day: date, hour: int = 14) -> datetime:
    """An afternoon instant on `day`, for moving the clock."""
    return datetime.combine(day, time(hour), tzinfo=UTC)


def london_day(instant: datetime) -> date:
    return instant.astimezone(LONDON).date()


async def seeded(store, clock) -> int:
    """Seed the demo MARAC; its id."""
    async with store.unit_of_work() as session:
        await seed_demo(session, clock.now())
    async with store.unit_of_work() as session:
        marac_id = await session.scalar(select(Marac.id).where(Marac.name == DEMO_MARAC))
    assert marac_id is not None
    return marac_id


async def other_marac(store, name: str = "Hillside MARAC", **settings: object) -> int:
    """A second MARAC, with the demo's agency names and the default settings: its id."""
    async with store.unit_of_work() as session:
        marac = Marac(name=name, area=name.split()[0], tenant_id="tenant-2", **settings)
        session.add_all([marac, *(Agency(marac=marac, name=agency, is_core=core)
                                  for agency, core, _ in DEMO_AGENCIES)])
        await session.flush()
        return marac.id


async def next_case_number(store, marac_id: int, year: int) -> str:
    """The number the MARAC's next case heard in `year` should get: its prefix, the year and
    one more than the cases already numbered that way."""
    async with store.unit_of_work() as session:
        prefix = f"{(await session.get_one(Marac, marac_id)).case_prefix}-{year}-"
        taken = await session.scalar(select(func.count()).select_from(Case)
                                     .where(Case.number.startswith(prefix))) or 0
    return f"{prefix}{taken + 1:03d}"


async def refer(store, clock, marac_id: int, payload: dict[str, object] | None = None
                ) -> Referral:
    """Submit a referral as the card does, in its own unit of work."""
    async with store.unit_of_work() as session:
        marac = await session.get_one(Marac, marac_id)
        form = read_form(payload or card_payload(), local_today(marac, clock.now()))
        return (await submit(session, marac, form, None, clock.now())).referral


async def accept(store, clock, marac_id: int, referral_id: int) -> triage.TriageOutcome:
    async with store.unit_of_work() as session:
        return await triage.accept(session, marac_id, referral_id, None, clock.now())


async def update_marac(store, marac_id: int, **settings: object) -> None:
    async with store.unit_of_work() as session:
        marac = await session.get_one(Marac, marac_id)
        for name, value in settings.items():
            setattr(marac, name, value)


async def count(store, model, *where) -> int:
    async with store.unit_of_work() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def reload(store, model, ident: int):
    async with store.unit_of_work() as session:
        return await session.get_one(model, ident)


def is_one_sentence(message: str) -> bool:
    """One plain sentence: a capital letter, a full stop, no line break, no second sentence."""
    return (message.lstrip("'")[:1].isupper() and message.endswith(".") and "\n" not in message
            and ". " not in message)
