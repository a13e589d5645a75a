"""The referral and triage cards, filled from the store for one MARAC."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adaptive_cards.card import AdaptiveCard
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from cards.referral import filled_referral_form, referral_summary_card
from cards.triage import triage_card
from dialogs.actor import Actor
from dialogs.referrals import summary_of
from dialogs.scheduling import day_in
from dialogs.transfers import transfers_in
from dialogs.triage import awaiting_triage
from storage.database import core
from storage.models import Agency, Marac, Person, Referral

# The MARAC's time zone with its agencies in order, each marked if it is the referrer's own:
# everything the form needs, in one statement built once.
_FORM = (select(Marac.timezone, Agency.name, (Agency.id == select(Person.agency_id).where(
    Person.id == bindparam("person")).scalar_subquery()).label("mine"))
    .select_from(Marac).outerjoin(Agency, Agency.marac_id == Marac.id)
    .where(Marac.id == bindparam("marac")).order_by(Agency.id))


async def referral_form(session: AsyncSession, marac_id: int, referrer: Actor, now: datetime,
                        values: dict[str, object] | None = None,
                        yes_count: int | None = None, problem: str | None = None
                        ) -> dict[str, Any]:
    """The form, its referring agency and referrer filled in for a referrer the store knows."""
    rows = (await core(session, _FORM, {"marac": marac_id, "person": referrer.person_id})).all()
    values = dict(values or {})
    own = next((row.name for row in rows if row.mine), None)
    if own is not None and "referring_agency" not in values:
        values["referring_agency"] = own
        values.setdefault("referrer_name", referrer.first_name)
    return filled_referral_form([row.name for row in rows if row.name is not None],
                                day_in(rows[0].timezone, now), values, yes_count, problem,
                                marac_id)


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
