"""Apologies and deputies (002): a representative who cannot attend the next meeting sends
apologies and may name a deputy from their own agency. The deputy holds the representative's
rights at that meeting only (bot.turns.access) and is sent the case list; the attendance card
shows the agency's apologies, with its deputy or the information it sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.refusal import Refusal
from storage.models import (
    Agency,
    AgencyInformation,
    Apology,
    Case,
    Meeting,
    MeetingStatus,
    Person,
)


class ApologyError(Refusal):
    """Apologies that cannot be recorded; str() is one plain sentence."""


@dataclass(frozen=True)
class Sent:
    apology: Apology
    meeting: Meeting
    deputy: Person | None


async def send(session: AsyncSession, marac_id: int, person_id: int | None, deputy_name: str,
               now: datetime, meeting_id: int | None = None) -> Sent:
    """Apologies for the MARAC's next meeting (the one a case list's button names, which must
    be it); sending again replaces the deputy."""
    person = await session.get(Person, person_id) if person_id is not None else None
    agency = (await session.get(Agency, person.agency_id)
              if person is not None and person.agency_id is not None else None)
    if person is None or agency is None or agency.marac_id != marac_id:
        raise ApologyError("Only a representative of one of this MARAC's agencies sends "
                           "apologies.")
    meeting = await session.scalar(
        select(Meeting).where(Meeting.marac_id == marac_id, Meeting.starts_at > now,
                              Meeting.status == MeetingStatus.SCHEDULED)
        .order_by(Meeting.starts_at).limit(1))
    if meeting is None:
        raise ApologyError("No meeting of this MARAC is coming up to send apologies for.")
    if meeting_id is not None and meeting.id != meeting_id:
        raise ApologyError("That meeting has begun or passed: apologies go to the next one, "
                           "from its case list.")
    deputy = await _deputy(session, person, agency, deputy_name.strip())
    apology = await session.scalar(select(Apology).where(
        Apology.meeting_id == meeting.id, Apology.person_id == person.id))
    if apology is None:
        apology = Apology(meeting_id=meeting.id, person_id=person.id, agency_id=agency.id,
                          sent_at=now)
        session.add(apology)
    apology.deputy_person_id = deputy.id if deputy else None
    apology.sent_at = now
    await session.flush()
    return Sent(apology, meeting, deputy)


async def _deputy(session: AsyncSession, person: Person, agency: Agency, name: str
                  ) -> Person | None:
    if not name:
        return None
    # First names are encrypted at rest, so the agency's few people are compared here.
    colleagues = [p for p in (await session.scalars(select(Person).where(
        Person.agency_id == agency.id, Person.tenant_id == person.tenant_id,
        Person.id != person.id))).all() if p.first_name.casefold() == name.casefold()]
    if not colleagues:
        raise ApologyError(f"No one named {name[:40]} is on record at {agency.name}; ask your "
                           "coordinator to add your deputy first.")
    if len(colleagues) > 1:
        raise ApologyError(f"Several people named {name[:40]} are at {agency.name}; ask your "
                           "coordinator to name the deputy.")
    return colleagues[0]


@dataclass(frozen=True)
class ApologyLine:
    agency: str
    deputy: str | None
    information_sent: bool

    @property
    def text(self) -> str:
        if self.deputy:
            return f"apologies, deputy {self.deputy}"
        return "apologies, information sent" if self.information_sent else "apologies"


async def apologies_for(session: AsyncSession, meeting: Meeting) -> list[ApologyLine]:
    """Each agency's apologies for the meeting, as the attendance card shows them."""
    rows = (await session.execute(
        select(Apology, Agency).join(Agency, Agency.id == Apology.agency_id)
        .where(Apology.meeting_id == meeting.id).order_by(Agency.id))).tuples().all()
    sent = set((await session.scalars(
        select(AgencyInformation.agency_id).join(Case, Case.id == AgencyInformation.case_id)
        .where(Case.meeting_id == meeting.id))).all())
    lines = []
    for apology, agency in rows:
        deputy = (await session.get(Person, apology.deputy_person_id)
                  if apology.deputy_person_id else None)
        lines.append(ApologyLine(agency.name, deputy.first_name if deputy else None,
                                 agency.id in sent))
    return lines
