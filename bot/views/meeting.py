"""The meeting's cards, filled from the store."""

from __future__ import annotations

from datetime import datetime

from adaptive_cards.card import AdaptiveCard
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.views.referrals import agency_names
from cards.meeting import Present, attendance_card, case_card
from dialogs import meeting as run
from dialogs.apologies import apologies_for
from dialogs.case_work import SharedCase
from dialogs.meeting_events import joined_unconfirmed
from storage.models import (
    ActionOrigin,
    Agency,
    AgencyInformation,
    AttendanceRole,
    Case,
    Marac,
    Meeting,
    PlannedAction,
)


async def attendance_view(session: AsyncSession, marac: Marac, meeting: Meeting
                          ) -> AdaptiveCard:
    present = await run.present(session, meeting)
    core = (await session.scalars(select(Agency.name).where(
        Agency.marac_id == marac.id, Agency.is_core).order_by(Agency.id))).all()
    represented = {agency.name for attendance, _, agency in present if agency is not None
                   and attendance.role is AttendanceRole.AGENCY_REPRESENTATIVE}
    cases = await run.cases_of(session, meeting)
    apologies = await apologies_for(session, meeting)
    # An agency that sent apologies and its information is accounted for, not missing.
    accounted = represented | {line.agency for line in apologies if line.information_sent}
    return attendance_card(
        marac.name,
        [Present(person.first_name, agency.name if agency else None, attendance.role.value)
         for attendance, person, agency in present],
        [name for name in core if name not in accounted],
        await agency_names(session, marac.id),
        [case.number for case in cases],
        await joined_unconfirmed(session, meeting),
        [(line.agency, line.text) for line in apologies],
    )


async def case_card_view(session: AsyncSession, marac: Marac, meeting: Meeting, case: Case,
                         now: datetime) -> AdaptiveCard:
    shared, before = (await session.execute(
        select(func.count(), func.count().filter(AgencyInformation.before_meeting))
        .select_from(AgencyInformation).where(AgencyInformation.case_id == case.id))).one()
    actions = await session.scalar(select(func.count()).select_from(PlannedAction).where(
        PlannedAction.case_id == case.id, PlannedAction.origin == ActionOrigin.MEETING)) or 0
    return case_card(SharedCase.of(case), run.slot_of(marac, meeting, case, now),
                     (shared, actions),
                     await agency_names(session, marac.id), before)
