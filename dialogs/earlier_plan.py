"""The last plan, reviewed at a repeat hearing (../shared/MARAC.md; issue 17): each action of
the hearing a repeat referral repeats, with what became of it. That is the first question at
a repeat hearing, so it is read live from the earlier case's follow-ups, never from a copy."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ActionFollowUp,
    ActionOrigin,
    ActionStatus,
    Agency,
    Case,
    PlannedAction,
    Referral,
)

DONE, COULD_NOT, NOT_DONE = "done", "could not be done", "not done"


@dataclass(frozen=True)
class EarlierAction:
    case_number: str
    agency: str
    description: str
    outcome: str  # done, could not be done, not done
    note: str  # the done note, or why it could not be done
    action_id: int = 0  # the earlier plan's action, which the chair may carry into this one

    @property
    def unfinished(self) -> bool:
        return self.outcome != DONE

    @property
    def shown(self) -> str:
        return self.outcome + (f": {self.note}" if self.note else "")


async def outcomes(session: AsyncSession, referral: Referral | None
                   ) -> tuple[EarlierAction, ...]:
    """The earlier hearing's actions and their outcomes; none when this is no repeat, or the
    earlier case is no longer held."""
    if referral is None or referral.repeat_of_id is None:
        return ()
    rows = (await session.execute(
        select(PlannedAction, ActionFollowUp, Case.number, Agency.name)
        .join(Case, Case.id == PlannedAction.case_id)
        .outerjoin(ActionFollowUp, ActionFollowUp.action_id == PlannedAction.id)
        .outerjoin(Agency, Agency.id == PlannedAction.owning_agency_id)
        .where(Case.referral_id == referral.repeat_of_id,
               PlannedAction.origin != ActionOrigin.EARLIER_PLAN)
        .order_by(PlannedAction.id))).tuples().all()
    return tuple(EarlierAction(number, agency or "Any agency", action.description,
                               *_outcome(follow_up), action_id=action.id)
                 for action, follow_up, number, agency in rows)


def _outcome(follow_up: ActionFollowUp | None) -> tuple[str, str]:
    if follow_up is None:
        return NOT_DONE, ""
    if follow_up.status is ActionStatus.DONE:
        return DONE, follow_up.note
    if follow_up.status is ActionStatus.CANNOT_COMPLETE:
        return COULD_NOT, follow_up.note
    return NOT_DONE, ""
