"""The plan as the record, and its dissemination (../shared/MARAC.md, "After the meeting",
"Information governance"): closing a case writes version 1 and queues it, once, for the core
agencies and every agency that took part or was given an action, withholding it from agencies
without the information sharing agreement; `plan CASE` shows the current version only to those
entitled; every later change is a new version with who, what and why."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from dialogs import plans
from dialogs.plans import NotEntitled, Plan, PlanError
from storage.models import (
    Case,
    DeliveryKind,
    Dissemination,
    MailMessage,
    PlanVersion,
    Referral,
    Role,
)
from tests.store.meeting_factory import end, next_case
from tests.store.plan_factory import (
    add_mailbox,
    count,
    deliveries,
    dissemination_of,
    heard,
    outbox,
    recipients,
    tick,
    versions,
)
from tests.store.referral_factory import refer

REP = frozenset({Role.AGENCY_REPRESENTATIVE})


async def agency_names(store, demo) -> dict[int, str]:
    return {agency_id: name for name, agency_id in demo.agencies.items()}


async def test_closing_a_case_writes_version_one_with_everything_the_plan_holds(store, clock):
    h = await heard(store, clock)
    await tick(store, clock)
    (first,) = await versions(store, h.number)
    plan = Plan.from_json(first.content)
    assert (first.version, first.changed_by_person_id) == (1, None)
    assert first.change == "The plan agreed at the meeting."
    assert sorted(plan.responsible) == ["Chris (chair)", "Imogen (IDVA Service)",
                                        "Priya (Police)"]
    assert ("Police", "Two call-outs in 2026.") in plan.information
    assert ("Housing", "No relevant information held.") in plan.information
    assert [(a.agency, a.owner, a.status) for a in plan.actions] == [
        ("Police", "Priya", "open"), ("IDVA Service", "Imogen", "open"),
        ("Probation", "Pat", "open")]
    assert all(a.due_on and a.risk == "Threats to kill." for a in plan.actions)
    assert plan.victim_contact == "Imogen"
    assert "Owen" not in " ".join(plan.responsible)  # observers share no responsibility


async def test_the_plan_goes_to_core_agencies_those_who_took_part_and_those_with_actions(
        store, clock):
    h = await heard(store, clock)
    await tick(store, clock)
    names = await agency_names(store, h.demo)
    rows = [(names[d.agency_id], d.kind.value, d.why) for d in await deliveries(store)]
    assert rows == [
        ("Police", "teams", "core agency, took part in the planning, given an action"),
        ("IDVA Service", "teams", "core agency, took part in the planning, given an action"),
        ("Children's Social Care", "teams", "core agency"),
        ("Health", "no_recipient", "took part in the planning"),
        ("Probation", "withheld", "given an action"),
    ]  # Housing neither attended, shared, nor got an action: it gets nothing
    assert await recipients(store, "plan") == ["Imogen", "Priya", "Sam"]


async def test_an_agency_without_the_sharing_agreement_is_withheld_and_the_coordinator_told(
        store, clock):
    await heard(store, clock, probation_rep=True)
    await tick(store, clock)
    plan_recipients = await recipients(store, "plan")
    assert "Pat" not in plan_recipients  # Probation's representative receives nothing
    assert "Pat" not in await recipients(store, "action")
    (notice,) = await outbox(store, "dissemination withheld")
    assert await recipients(store, "dissemination withheld") == ["Cara"]
    text = notice.activity["text"]
    assert "Probation: has not signed the information sharing agreement" in text
    assert "Probation safety step for the victim." in text  # its action is not sent either


async def test_dissemination_is_queued_once_and_the_deadline_runs_from_the_meeting_end(
        store, clock):
    h = await heard(store, clock)
    await tick(store, clock)
    await tick(store, clock)
    assert await count(store, Dissemination) == 1
    assert await count(store, PlanVersion) == 1
    assert (await dissemination_of(store, h.number)).deadline_at is None  # still meeting
    clock.set(clock.now() + timedelta(minutes=30))
    await end(store, clock)
    ended = clock.now()
    await tick(store, clock)
    assert (await dissemination_of(store, h.number)).deadline_at == ended + timedelta(hours=48)
    # `end` closed the open second case: it is disseminated at the latest now.
    second = await dissemination_of(store, h.demo.numbers[1])
    assert second.deadline_at == ended + timedelta(hours=48)
    assert await count(store, Dissemination) == 2


async def test_a_deferred_or_unheard_case_is_not_disseminated(store, clock):
    await heard(store, clock, close=False)
    await tick(store, clock)
    assert await count(store, Dissemination) == 0


async def test_a_secure_mailbox_gets_the_plan_by_email_too(store, clock):
    demo_heard = await heard(store, clock, close=False)
    health = demo_heard.demo.agencies["Health"]
    mailbox = await add_mailbox(store, health, "marac@health.example.nhs.uk")
    await next_case(store, clock)
    await tick(store, clock)
    names = await agency_names(store, demo_heard.demo)
    health_rows = [d for d in await deliveries(store) if names[d.agency_id] == "Health"]
    assert [d.kind for d in health_rows] == [DeliveryKind.EMAIL]
    async with store.unit_of_work() as session:
        (mail,) = (await session.scalars(select(MailMessage))).all()
    assert (mail.mailbox_id, mail.subject) == (mailbox, f"MARAC action plan {demo_heard.number}")


async def test_a_closed_panel_plan_goes_only_to_the_people_admitted(store, clock):
    h = await heard(store, clock, closed_panel=True, admitted=("Priya",))
    await tick(store, clock)
    assert await recipients(store, "plan") == ["Priya"]
    names = await agency_names(store, h.demo)
    kinds = {names[d.agency_id]: (d.kind.value, d.note) for d in await deliveries(store)}
    assert kinds["IDVA Service"] == ("withheld",
                                     "closed panel: nobody from the agency was admitted")
    assert kinds["Police"] == ("teams", "")


# --- plan CASE -------------------------------------------------------------------------------

async def show(store, h, roles, person: str | None):
    async with store.unit_of_work() as session:
        return await plans.show(session, h.demo.marac_id, h.number.lower(), roles,
                                h.demo.people[person] if person else None)


async def test_plan_shows_the_current_version_to_a_representative(store, clock):
    h = await heard(store, clock)
    await tick(store, clock)
    seen = await show(store, h, REP, "Priya")
    assert (seen.version, seen.versions, seen.changed_by) == (1, 1, "the meeting")
    assert seen.plan.case_number == h.number


async def test_observers_and_unsigned_agencies_are_refused_the_plan(store, clock):
    h = await heard(store, clock, probation_rep=True)
    await tick(store, clock)
    with pytest.raises(NotEntitled, match="^Observers do not receive case papers"):
        await show(store, h, frozenset({Role.OBSERVER}), "Owen")
    with pytest.raises(NotEntitled, match="Probation has not signed the information sharing"):
        await show(store, h, REP, "Pat")


async def test_a_closed_panel_plan_is_for_the_chair_and_those_admitted_only(store, clock):
    h = await heard(store, clock, closed_panel=True, admitted=("Priya",))
    await tick(store, clock)
    assert (await show(store, h, REP, "Priya")).version == 1
    assert (await show(store, h, frozenset({Role.CHAIR}), "Chris")).version == 1
    with pytest.raises(NotEntitled, match="closed panel"):
        await show(store, h, REP, "Imogen")
    with pytest.raises(NotEntitled, match="closed panel"):
        await show(store, h, frozenset({Role.COORDINATOR}), "Cara")


async def test_plan_of_an_unknown_or_unclosed_case_says_so(store, clock):
    h = await heard(store, clock)
    async with store.unit_of_work() as session:
        with pytest.raises(PlanError, match="^There is no case RIV-1999-999 in this MARAC.$"):
            await plans.show(session, h.demo.marac_id, "RIV-1999-999", REP, None)
        with pytest.raises(PlanError, match="has no plan yet"):
            await plans.show(session, h.demo.marac_id, h.demo.numbers[2], REP, None)


async def test_a_new_version_keeps_the_old_one_as_it_was(store, clock):
    h = await heard(store, clock)
    await tick(store, clock)
    clock.set(clock.now() + timedelta(hours=3))
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.number == h.number))
        assert case is not None
        case.victim_contact = "Priya"
        await plans.record_version(session, case, h.demo.people["Cara"],
                                   "Victim contact is now Priya.", "Imogen is on leave.",
                                   clock.now())
    first, second = await versions(store, h.number)
    assert Plan.from_json(first.content).victim_contact == "Imogen"
    assert Plan.from_json(second.content).victim_contact == "Priya"
    assert (second.version, second.changed_by_person_id, second.change, second.reason) == (
        2, h.demo.people["Cara"], "Victim contact is now Priya.", "Imogen is on leave.")
    seen = await show(store, h, REP, "Priya")
    assert (seen.version, seen.versions, seen.changed_by) == (2, 2, "Cara")


async def test_a_repeat_victims_plan_links_the_earlier_plan(store, clock):
    h = await heard(store, clock)
    await tick(store, clock)
    earlier_referral = await refer(store, clock, h.demo.marac_id)
    repeat = await refer(store, clock, h.demo.marac_id)
    async with store.unit_of_work() as session:
        await session.execute(update(Case).where(Case.number == h.number)
                              .values(referral_id=earlier_referral.id))
        await session.execute(update(Case).where(Case.number == h.demo.numbers[1])
                              .values(referral_id=repeat.id))
        await session.execute(update(Referral).where(Referral.id == repeat.id)
                              .values(repeat_of_id=earlier_referral.id))
    clock.set(clock.now() + timedelta(minutes=20))
    await next_case(store, clock)
    await tick(store, clock)
    (earlier,) = await versions(store, h.number)
    (linked,) = await versions(store, h.demo.numbers[1])
    assert linked.earlier_plan_id == earlier.id
    plan = Plan.from_json(linked.content)
    assert plan.earlier_plan == f"{h.number}, version 1"
    assert plan.referral is not None and plan.referral["repeat"] is True


async def test_retention_can_purge_a_disseminated_case_after_its_plans_go(store, clock):
    from sqlalchemy import delete

    from dialogs.plans import purge_plans
    from storage.models import (
        ActionFollowUp,
        AgencyInformation,
        ConflictDeclaration,
        PlanDelivery,
        PlannedAction,
        PlanUpdate,
    )

    h = await heard(store, clock, close=False)
    await add_mailbox(store, h.demo.agencies["Health"], "marac@health.example.nhs.uk")
    await next_case(store, clock)
    await tick(store, clock)
    async with store.unit_of_work() as session:
        case_id = await session.scalar(select(Case.id).where(Case.number == h.number))
        assert case_id is not None
        await purge_plans(session, [case_id])
        # what dialogs.retention deletes next, as it does
        for model in (PlannedAction, AgencyInformation, ConflictDeclaration):
            await session.execute(delete(model).where(model.case_id == case_id))
        await session.execute(delete(Case).where(Case.id == case_id))
    for model in (PlanVersion, Dissemination, PlanDelivery, MailMessage, ActionFollowUp,
                  PlanUpdate):
        assert await count(store, model) == 0


async def test_a_case_reopened_at_the_meeting_and_closed_again_is_sent_again(store, clock):
    from dialogs import case_work
    from tests.store.meeting_factory import go_back
    from tests.store.plan_factory import action_fields

    h = await heard(store, clock)
    await tick(store, clock)
    clock.set(clock.now() + timedelta(minutes=2))
    assert await go_back(store, clock) == h.number
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.number == h.number))
        assert case is not None
        await case_work.add_action(
            session, case, action_fields("Children's Social Care", "Sam", clock.now().date()),
            h.demo.agencies, h.demo.people["Priya"], clock.now().date(), "press-late")
    clock.set(clock.now() + timedelta(minutes=3))
    await next_case(store, clock)
    await tick(store, clock)
    await tick(store, clock)
    first, second = await versions(store, h.number)
    assert second.change == "The plan agreed at the meeting, reopened and closed again."
    assert [a.agency for a in Plan.from_json(second.content).actions][-1] == (
        "Children's Social Care")
    assert await recipients(store, "plan") == ["Imogen", "Imogen", "Priya", "Priya", "Sam",
                                               "Sam"]
    assert await recipients(store, "action") == ["Imogen", "Priya", "Sam"]  # new one only
    assert (await dissemination_of(store, h.number)).plan_version_id == second.id
    async with store.unit_of_work() as session:
        from dialogs import dissemination

        (state, *_) = await dissemination.status(session, h.demo.marac_id, clock.now())
    assert [a.agency for a in state.agencies].count("Police") == 1  # the current version's


async def test_each_message_after_the_meeting_is_summarised_by_its_case_number_alone(
        store, clock):
    """Teams' notification shows the summary: what the message is about, and nothing about
    the victim."""
    h = await heard(store, clock, probation_rep=True)
    await tick(store, clock)
    summaries = {(m.purpose, m.activity["summary"]) for m in await outbox(store)}
    # The plan's also says what to type, for the short form Teams' size limit may need.
    plan = (f"Plan {h.number}: type **plan {h.number}** to see it; the Word document holds "
            "it whole.")
    assert summaries == {("plan", plan), ("action", f"Action: {h.number}"),
                         ("dissemination withheld", f"Plan withheld: {h.number}")}


async def test_a_tick_that_read_the_clock_before_the_case_closed_sends_the_plan_once(
        store, clock):
    """A busy timer reads the time, then finds the case the chair closed a moment later:
    the plan goes out once, not again on the next tick as if the case had been reopened."""
    from bot.proactive.circulation import queue_scheduled

    h = await heard(store, clock)
    async with store.unit_of_work() as session:
        await queue_scheduled(session, clock.now() - timedelta(seconds=2))
    clock.set(clock.now() + timedelta(minutes=1))
    await tick(store, clock)
    await tick(store, clock)
    assert len(await versions(store, h.number)) == 1
    assert await recipients(store, "plan") == ["Imogen", "Priya", "Sam"]
