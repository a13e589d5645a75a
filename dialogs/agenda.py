"""The agenda of a MARAC's next meeting: cases in slot order with their times, the open part
first and the closed panel (honour-based violence, 002) after it.

The actions listed are those planned before the meeting (from the referral, or a repeat
victim's earlier plan), never those agreed in it; a closed-panel case is listed without
detail to anyone the closed panel does not admit."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from dialogs import closed_panel
from dialogs.transfers import transfers_in
from storage.models import ActionOrigin, Agency, Case, Marac, Meeting, Role


@dataclass(frozen=True)
class PlannedLine:
    agency: str
    for_whom: str
    description: str
    from_earlier_plan: bool


@dataclass(frozen=True)
class AgendaLine:
    slot: int
    starts_at: datetime
    case_number: str
    first_name: str
    reasons: tuple[str, ...] = ()
    repeat: bool = False
    closed_panel: bool = False
    breaches_target: bool = False
    actions: tuple[PlannedLine, ...] = ()
    withheld: bool = False  # a closed-panel case this viewer may not see: number and time only
    transferred_from: str = ""  # the MARAC that sent it, for a transfer in


@dataclass(frozen=True)
class Viewer:
    roles: frozenset[Role]
    person_id: int | None


@dataclass(frozen=True)
class Agenda:
    marac_name: str
    meeting_starts_at: datetime | None
    lines: tuple[AgendaLine, ...]


async def next_agenda(session: AsyncSession, marac_id: int, now: datetime,
                      viewer: Viewer | None = None) -> Agenda:
    marac = await session.get_one(Marac, marac_id)
    meeting = await session.scalar(
        select(Meeting)
        .where(Meeting.marac_id == marac_id, Meeting.starts_at >= now - timedelta(hours=12))
        .order_by(Meeting.starts_at)
        .limit(1)
    )
    if meeting is None:
        return Agenda(marac.name, None, ())
    return Agenda(marac.name, meeting.starts_at,
                  await agenda_lines(session, marac, meeting, viewer))


async def agenda_lines(session: AsyncSession, marac: Marac, meeting: Meeting,
                       viewer: Viewer | None = None) -> tuple[AgendaLine, ...]:
    """Without a `viewer`, no closed-panel detail at all (for shared cards)."""
    cases = (await session.scalars(
        select(Case).where(Case.meeting_id == meeting.id)
        .options(selectinload(Case.referral), selectinload(Case.planned_actions))
        .order_by(Case.closed_panel, Case.slot))).all()
    agencies = {a.id: a.name for a in (await session.scalars(
        select(Agency).where(Agency.marac_id == marac.id))).all()}
    slot = timedelta(seconds=marac.slot_seconds)
    came = await transfers_in(session, [c.referral_id for c in cases if c.referral_id])
    lines = []
    for position, case in enumerate(cases, start=1):
        line = AgendaLine(slot=position, starts_at=meeting.starts_at + (position - 1) * slot,
                          case_number=case.number, first_name=case.victim_first_name,
                          closed_panel=case.closed_panel)
        if viewer is not None and closed_panel.may_see(case, viewer.roles, viewer.person_id):
            line = replace(
                line, reasons=tuple(case.referral.qualifying_reasons) if case.referral else (),
                repeat=bool(case.referral and case.referral.repeat_of_id),
                breaches_target=case.breaches_target,
                transferred_from=(came[case.referral_id].from_marac
                                  if case.referral_id in came else ""),
                actions=tuple(PlannedLine(agencies.get(a.owning_agency_id or 0, "Any agency"),
                                          a.for_whom, a.description,
                                          a.origin is ActionOrigin.EARLIER_PLAN)
                              for a in case.planned_actions
                              if a.origin is not ActionOrigin.MEETING))
        else:
            line = replace(line, withheld=True)
        lines.append(line)
    return tuple(lines)
