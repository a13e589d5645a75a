"""An exceptional case found before the meeting (002): the victim or perpetrator has died, or
the victim has moved out of the area. The coordinator marks the listed case exceptional with
what is known; it stays on the agenda so that its information is shared and recorded, and no
action planning takes place (dialogs.case_work refuses actions on it, as when the chair marks
it in the meeting, and it closes without a victim contact)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import closed_panel
from dialogs.meeting import EXCEPTIONS, NOT_STARTED
from dialogs.refusal import Refusal
from storage.models import Case, CaseStatus, Meeting, Role

NOTE_LIMIT = 1000


class ExceptionalError(Refusal):
    """A case that cannot be marked exceptional now; str() is one plain sentence."""


async def mark_before(session: AsyncSession, marac_id: int, roles: frozenset[Role],
                      person_id: int | None, arguments: str) -> Case:
    """`CASE exceptional death|moved NOTE`: mark the listed case exceptional with what is
    known (the command table lets only the coordinator do it)."""
    words = arguments.split(None, 3)
    number, said, kind, note = (words + ["", "", "", ""])[:4]
    if said.lower() != "exceptional" or kind.lower() not in EXCEPTIONS or not note.strip():
        raise ExceptionalError("Say **mark CASE exceptional death** or **mark CASE exceptional "
                               "moved**, then what is known.")
    if len(note.strip()) > NOTE_LIMIT:
        raise ExceptionalError(f"Keep the note under {NOTE_LIMIT:,} characters.")
    row = (await session.execute(
        select(Case, Meeting).join(Meeting, Meeting.id == Case.meeting_id)
        .where(Case.number == number.upper(), Meeting.marac_id == marac_id))).first()
    if row is None:
        raise ExceptionalError("That case is not listed at one of this MARAC's meetings.")
    case, meeting = row
    if not closed_panel.may_see(case, roles, person_id):
        raise ExceptionalError(closed_panel.refusal(case))
    if case.status is not CaseStatus.LISTED or meeting.status not in NOT_STARTED:
        raise ExceptionalError(f"The meeting for {case.number} has begun: the chair marks it "
                               "exceptional there.")
    case.exceptional, case.exceptional_note = kind.lower(), note.strip()
    return case
