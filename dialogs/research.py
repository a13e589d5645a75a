"""Research returned before the meeting (002, issue 16): a representative who receives the
case list returns their agency's research on a case from their personal chat: what the
agency holds (or "not known to us: systems flagged"), the risks it sees, the actions it has
already taken and those it proposes. It is due one working day before the meeting; after
that it is still accepted, and marked late. Once the meeting has begun, information is added
on the case card there instead.

Returned research is the agency's AgencyInformation for the case, so the reminder one working
day ahead skips the agency (dialogs.circulation) and the meeting's case card shows it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import closed_panel
from dialogs.refusal import Refusal
from dialogs.scheduling import calendar_of, local_today
from storage.models import (
    Agency,
    AgencyInformation,
    Case,
    CaseStatus,
    Marac,
    Meeting,
    Person,
    Role,
)

NOT_KNOWN = "Not known to us: systems flagged."
LIMITS = {"information": 4000, "risks": 2000, "actions_taken": 2000, "actions_proposed": 2000}


class ResearchError(Refusal):
    """Research that cannot be returned; str() is one plain sentence."""


@dataclass(frozen=True)
class ResearchForm:
    """A case's research card for one agency, with what it has already returned."""

    case_number: str
    first_name: str
    agency: str
    meeting_starts_at: datetime
    due_on: date
    information: AgencyInformation | None


def due_on(marac: Marac, meeting: Meeting) -> date:
    """The last day research is on time: one working day before the meeting (002)."""
    meeting_day = meeting.starts_at.astimezone(ZoneInfo(marac.timezone)).date()
    return calendar_of(marac).before(meeting_day, marac.agency_deadline_working_days)


async def form(session: AsyncSession, marac_id: int, person_id: int | None,
               roles: frozenset[Role], number: object, now: datetime) -> ResearchForm:
    case, meeting, marac, agency = await _researchable(session, marac_id, person_id, roles,
                                                       number, now)
    found = await session.scalar(select(AgencyInformation).where(
        AgencyInformation.case_id == case.id, AgencyInformation.agency_id == agency.id))
    return ResearchForm(case.number, case.victim_first_name, agency.name, meeting.starts_at,
                        due_on(marac, meeting), found)


async def return_research(session: AsyncSession, marac_id: int, person_id: int | None,
                          roles: frozenset[Role], number: object, fields: Mapping[str, object],
                          now: datetime) -> ResearchForm:
    """Store the agency's research on the case (sending again replaces it)."""
    case, meeting, marac, agency = await _researchable(session, marac_id, person_id, roles,
                                                       number, now)
    text = {key: _text(fields.get(key), limit, key) for key, limit in LIMITS.items()}
    not_known = str(fields.get("not_known", "")).lower() in ("true", "yes", "on", "1")
    if not text["information"] and not not_known:
        raise ResearchError("Write what your agency holds, or choose not known to us.")
    found = await session.scalar(select(AgencyInformation).where(
        AgencyInformation.case_id == case.id, AgencyInformation.agency_id == agency.id))
    if found is None:
        found = AgencyInformation(case_id=case.id, agency_id=agency.id, sent_at=now)
        session.add(found)
    found.text = text["information"] or NOT_KNOWN
    found.not_involved = not_known
    found.risks = text["risks"] or None
    found.actions_taken = text["actions_taken"] or None
    found.actions_proposed = text["actions_proposed"] or None
    found.sent_by_person_id, found.sent_at = person_id, now
    found.before_meeting = True
    found.late = local_today(marac, now) > due_on(marac, meeting)
    await session.flush()
    return ResearchForm(case.number, case.victim_first_name, agency.name, meeting.starts_at,
                        due_on(marac, meeting), found)


def _text(value: object, limit: int, key: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if len(text) > limit:
        raise ResearchError(f"Keep the {key.replace('_', ' ')} under {limit:,} characters.")
    return text


async def _researchable(session: AsyncSession, marac_id: int, person_id: int | None,
                        roles: frozenset[Role], number: object, now: datetime
                        ) -> tuple[Case, Meeting, Marac, Agency]:
    """The case, its meeting and the presser's agency, if they may return research on it."""
    person = await session.get(Person, person_id) if person_id is not None else None
    agency = (await session.get(Agency, person.agency_id)
              if person is not None and person.agency_id is not None else None)
    if agency is None or agency.marac_id != marac_id:
        raise ResearchError("Only a representative of one of this MARAC's agencies returns "
                            "research.")
    row = (await session.execute(
        select(Case, Meeting).join(Meeting, Meeting.id == Case.meeting_id)
        .where(Case.number == (number if isinstance(number, str) else ""),
               Meeting.marac_id == marac_id))).first()
    if row is None:
        raise ResearchError("That case is not listed at one of this MARAC's meetings.")
    case, meeting = row
    if not closed_panel.may_see(case, roles, person_id):
        raise ResearchError(closed_panel.refusal(case))
    if case.status is not CaseStatus.LISTED or meeting.starts_at <= now:
        raise ResearchError(f"The meeting for {case.number} has begun: add your agency's "
                            "information on the case card there.")
    return case, meeting, await session.get_one(Marac, marac_id), agency
