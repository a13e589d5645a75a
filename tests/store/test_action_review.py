"""The operations manager's review of an action that cannot be completed (issue 17): the
manager's notice carries the review's buttons; accepted, reassigned to another agency with a
new owner, or closed with a reason, each a new plan version saying who and why; the same
decision twice does nothing twice, a different one is refused; bad input is refused in one
sentence and changes nothing."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from dialogs import acknowledgement, action_review
from dialogs.acknowledgement import Verb
from dialogs.action_review import Decision, Reassignment
from dialogs.plans import NotEntitled, Plan, PlanError
from storage.models import ActionFollowUp, PlannedAction, Role
from tests.store.plan_factory import (
    count,
    follow_up_of,
    heard,
    outbox,
    press,
    recipients,
    tick,
    versions,
)

MANAGER = frozenset({Role.OPERATIONS_MANAGER})
REASON = "Amy has moved to a refuge out of the area."


async def cannot_complete(store, clock):
    """Imogen (IDVA Service) says her action cannot be completed, by the button."""
    h = await heard(store, clock)
    await tick(store, clock)
    follow_up = await follow_up_of(store, h.actions["Imogen"])
    await press(store, clock, h, "Imogen", "action.cannot",
                {"follow_up": str(follow_up), "reason": REASON})
    clock.set(clock.now() + timedelta(days=1))
    return h, follow_up


async def review(store, clock, h, follow_up, decision: Decision, reason: str = "",
                 to: Reassignment | None = None, by: str = "Olu"):
    async with store.unit_of_work() as session:
        return await action_review.review(session, follow_up, h.demo.people[by], decision,
                                          reason, to, clock.now())


def refused(sentence: str, kind: type[Exception] = PlanError):
    return pytest.raises(kind, match=f"^{re.escape(sentence)}$")


async def unchanged(store, h) -> tuple[int, int, str | None]:
    """What a refused review must leave as it was: versions, actions, the review."""
    async with store.unit_of_work() as session:
        review = await session.scalar(select(ActionFollowUp.review).where(
            ActionFollowUp.action_id == h.actions["Imogen"]))
    return (len(await versions(store, h.number)), await count(store, PlannedAction), review)


async def test_the_managers_notice_carries_the_review_buttons_the_coordinators_does_not(
        store, clock):
    await cannot_complete(store, clock)
    assert await recipients(store, "action cannot be completed") == ["Cara", "Olu"]
    cara, olu = await outbox(store, "action cannot be completed")
    assert "the operations manager decides on follow-up" in olu.activity["text"]
    assert "action.review" in json.dumps(olu.activity["attachments"])
    assert "attachments" not in cara.activity


async def test_accepted_is_a_new_version_once_and_a_different_decision_is_refused(store, clock):
    h, follow_up = await cannot_complete(store, clock)
    first = await review(store, clock, h, follow_up, Decision.ACCEPTED, "Agreed: out of area.")
    again = await review(store, clock, h, follow_up, Decision.ACCEPTED, "again")
    assert (first.changed, again.changed) == (True, False)
    (*_, latest) = await versions(store, h.number)
    assert latest.version == 3 and latest.changed_by_person_id == h.demo.people["Olu"]
    assert latest.change.startswith("Cannot complete accepted by the operations manager")
    assert latest.reason == "Agreed: out of area."
    before = await unchanged(store, h)
    with refused("This action was already reviewed: accepted."):
        await review(store, clock, h, follow_up, Decision.CLOSED, "No longer needed.")
    assert await unchanged(store, h) == before


async def test_closed_needs_a_reason(store, clock):
    h, follow_up = await cannot_complete(store, clock)
    before = await unchanged(store, h)
    with refused("Say why the action is closed."):
        await review(store, clock, h, follow_up, Decision.CLOSED, "  ")
    assert await unchanged(store, h) == before
    await review(store, clock, h, follow_up, Decision.CLOSED, "Victim declined the service.")
    assert await unchanged(store, h) == (before[0] + 1, before[1], "closed")


async def test_reassigned_gives_another_agencys_representative_the_action(store, clock):
    h, follow_up = await cannot_complete(store, clock)
    due = (clock.now() + timedelta(days=10)).date().isoformat()
    answer = await press(store, clock, h, "Olu", "action.review",
                         {"follow_up": str(follow_up), "decision": "reassigned",
                          "agency": "Police", "owner": "priya", "due_on": due,
                          "reason": "Police can reach her at the refuge."}, MANAGER)
    assert "reassigned to another agency" in json.dumps(answer)
    (*_, latest) = await versions(store, h.number)
    assert latest.change.startswith("Action reassigned to Police (priya)")
    plan = Plan.from_json(latest.content)
    moved = [a for a in plan.actions if a.agency == "Police" and a.owner == "Priya"
             and a.due_on == due]
    assert len(moved) == 1 and moved[0].status == "open"
    assert (await outbox(store, "action"))[-1].person_id == h.demo.people["Priya"]
    async with store.unit_of_work() as session:
        mine = await acknowledgement.open_actions(session, h.demo.people["Priya"])
    assert [a.agency for a in mine] == ["Police", "Police"]  # her own and the reassigned one


@pytest.mark.parametrize(("to", "sentence"), [
    (Reassignment("Fire Service", "Priya", "2099-01-01"),
     "Choose one of this MARAC's agencies."),
    (Reassignment("Probation", "Pat", "2099-01-01"),
     "Probation has not signed the information sharing agreement: choose another agency."),
    (Reassignment("Police", "Imogen", "2099-01-01"),
     "Name one representative of Police as the new owner."),
    (Reassignment("Police", "Priya", "next week"),
     "Give the new owner a due date, e.g. 2026-12-18."),
    (Reassignment("Police", "Priya", "2000-01-01"),
     "Give the new owner a due date from today on."),
])
async def test_a_bad_reassignment_is_refused_and_changes_nothing(store, clock, to, sentence):
    h, follow_up = await cannot_complete(store, clock)
    before = await unchanged(store, h)
    with refused(sentence):
        await review(store, clock, h, follow_up, Decision.REASSIGNED, "", to)
    assert await unchanged(store, h) == before


async def test_only_this_marac_s_operations_manager_reviews(store, clock):
    h, follow_up = await cannot_complete(store, clock)
    with refused("Only this MARAC's operations manager reviews an action that cannot be "
                 "completed.", NotEntitled):
        await review(store, clock, h, follow_up, Decision.ACCEPTED, by="Cara")


async def test_an_action_still_open_is_not_reviewed(store, clock):
    h, _ = await cannot_complete(store, clock)
    priya = await follow_up_of(store, h.actions["Priya"])
    async with store.unit_of_work() as session:
        await acknowledgement.answer(session, priya, h.demo.people["Priya"], Verb.ACKNOWLEDGE,
                                     "", clock.now())
    with refused("Only an action its owner cannot complete is reviewed."):
        await review(store, clock, h, priya, Decision.ACCEPTED)
