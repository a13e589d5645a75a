"""The referral and triage cards, filled from the store for one MARAC."""

from __future__ import annotations

from datetime import datetime

from adaptive_cards.card import AdaptiveCard
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cards.referral import referral_form_card, referral_summary_card
from cards.triage import triage_card
from dialogs.referrals import summary_of
from dialogs.scheduling import local_today
from dialogs.transfers import transfers_in
from dialogs.triage import awaiting_triage
from storage.models import Agency, Marac, Person, Referral


async def agency_names(session: AsyncSession, marac_id: int) -> list[str]:
    return list((await session.scalars(
        select(Agency.name).where(Agency.marac_id == marac_id).order_by(Agency.id))).all())


async def referral_form(session: AsyncSession, marac_id: int, person_id: int | None,
                        now: datetime, values: dict[str, object] | None = None,
                        yes_count: int | None = None, problem: str | None = None
                        ) -> AdaptiveCard:
    marac = await session.get_one(Marac, marac_id)
    values = dict(values or {})
    if person_id is not None and "referring_agency" not in values:
        person = await session.get_one(Person, person_id)
        if person.agency_id is not None:
            values["referring_agency"] = (await session.get_one(Agency, person.agency_id)).name
            values.setdefault("referrer_name", person.first_name)
    return referral_form_card(await agency_names(session, marac_id), local_today(marac, now),
                              values, yes_count, problem, marac_id)


async def referral_summary(session: AsyncSession, referral: Referral) -> AdaptiveCard:
    agency = await session.get_one(Agency, referral.referring_agency_id)
    return referral_summary_card(summary_of(referral, agency.name))


async def triage_view(session: AsyncSession, marac_id: int, note: str | None = None
                      ) -> AdaptiveCard:
    waiting = await awaiting_triage(session, marac_id)
    agencies = {a.id: a.name for a in (await session.scalars(
        select(Agency).where(Agency.marac_id == marac_id))).all()}
    originals = {r.id: r.victim_reference for r in (await session.scalars(
        select(Referral).where(Referral.id.in_(
            [w.duplicate_of_id for w in waiting if w.duplicate_of_id])))).all()}
    lines = [summary_of(r, agencies.get(r.referring_agency_id, "?"),
                        originals.get(r.duplicate_of_id or 0)) for r in waiting]
    return triage_card(lines, note, await transfers_in(session, [r.id for r in waiting]))
