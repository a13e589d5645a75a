"""Carrying an unfinished action of the last plan into the new one, at a repeat hearing
(../shared/MARAC.md; issue 17). The chair carries an action that could not be done, or was
simply not done, with a new due date: it becomes an action of this meeting, for the same
agency, owner, person and risk, followed up as any other. Carrying the same action twice adds
it once; an action that was done, or that is not the last plan's, is refused."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.case_work import add_action, case_record, may_agree
from dialogs.earlier_plan import outcomes
from dialogs.meeting import MeetingError
from storage.models import Case, Meeting, Person, PlannedAction, Referral, Role


def carry_key(case: Case, earlier_action_id: int) -> str:
    return f"carry-{case.id}-{earlier_action_id}"


async def carry(session: AsyncSession, case: Case, earlier_action_id: int, due_on: str,
                roles: frozenset[Role], person_id: int | None, today: date) -> PlannedAction:
    referral = await session.get(Referral, case.referral_id) if case.referral_id else None
    earlier = {a.action_id: a for a in await outcomes(session, referral)}
    found = earlier.get(earlier_action_id)
    if found is None:
        raise MeetingError(f"That action is not one of the last plan's for {case.number}.")
    if not found.unfinished:
        raise MeetingError("That action was done: there is nothing to carry.")
    action = await session.get_one(PlannedAction, earlier_action_id)
    marac_id = (await session.execute(select(Meeting.marac_id).where(
        Meeting.id == case.meeting_id))).scalar_one()
    record = await case_record(session, case, marac_id, actions=False)
    fields = {"agency": found.agency, "owner": action.owner or found.agency,
              "description": action.description, "for_whom": action.for_whom,
              "risk": action.risk or "Carried from the last plan.", "due_on": due_on}
    own_agency = await session.scalar(select(Person.agency_id).where(Person.id == person_id)
                                      ) if person_id is not None else None
    may_agree(case, roles, own_agency, fields, record)
    return await add_action(session, case, fields, record.agency_ids, person_id, today,
                            carry_key(case, earlier_action_id))
