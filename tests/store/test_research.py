"""Research returned before the meeting (issue 16): a representative returns their agency's
research on a listed case from their personal chat; late research is accepted and marked
late; once the meeting has begun it is added on the case card instead; the reminder skips
what an agency has returned; observers never get a research card. Each refusal is one
sentence and stores nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.views.meeting import case_card_view
from cards.circulation import case_list_card
from dialogs import case_work
from dialogs import meeting as run
from dialogs.circulation import circulate, claim_due_reminders
from dialogs.demo import DEMO_MARAC, DEMO_PEOPLE, seed_demo
from dialogs.research import NOT_KNOWN
from storage.models import Agency, AgencyInformation, Case, Marac, Meeting, Person
from tests.store.meeting_factory import CHANNEL, next_case
from tests.store.plan_factory import action_fields, tick, versions
from tests.store.test_marac_scope import personal
from tests.turns import handle_card_action

PRIYA, IMOGEN, OWEN = DEMO_PEOPLE[3], DEMO_PEOPLE[4], DEMO_PEOPLE[6]
CASE = "RIV-2026-001"  # the demo meeting is on Wednesday 2 December 2026, 09:30 in London
ON_TIME = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)  # the working day before: still on time
LATE = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # the meeting's morning: late
MEETING = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
BEGUN = MEETING + timedelta(minutes=15)
RESEARCH = {"information": "Two call-outs to the address in October.",
            "risks": "Threats to kill; escalating.", "actions_taken": "DV marker placed.",
            "actions_proposed": "Cocoon watch on the street."}


async def seeded(store, clock) -> None:
    async with store.unit_of_work() as session:
        await seed_demo(session, clock.now())


async def press(store, clock, who, verb: str, **data: Any) -> dict[str, Any]:
    action = {"type": "Action.Execute", "verb": verb, "data": {"verb": verb, **data}}
    answer, _, _ = await handle_card_action(personal(who.aad_object_id, invoke=action), action,
                                            store, clock)
    return answer


async def returned(store) -> list[AgencyInformation]:
    async with store.unit_of_work() as session:
        return list((await session.scalars(select(AgencyInformation))).all())


async def test_a_representative_returns_research_on_time(store, clock):
    await seeded(store, clock)
    opened = json.dumps(await press(store, clock, PRIYA, "research.open", case=CASE))
    assert "Police's research" in opened and "Tuesday 01 December 2026" in opened
    clock.set(ON_TIME)
    answer = json.dumps(await press(store, clock, PRIYA, "research.send", case=CASE,
                                    **RESEARCH))
    assert "Research sent on time." in answer
    [sent] = await returned(store)
    assert (sent.text, sent.risks, sent.actions_taken, sent.actions_proposed) == tuple(
        RESEARCH.values())
    assert sent.before_meeting and not sent.late and not sent.not_involved


async def test_research_after_the_deadline_is_accepted_and_marked_late(store, clock):
    await seeded(store, clock)
    clock.set(LATE)
    answer = json.dumps(await press(store, clock, PRIYA, "research.send", case=CASE,
                                    information="", not_known="true"))
    assert "marked late" in answer
    [sent] = await returned(store)
    assert sent.late and sent.not_involved and sent.text == NOT_KNOWN


async def test_once_the_meeting_has_begun_research_is_refused_and_nothing_stored(store, clock):
    await seeded(store, clock)
    clock.set(BEGUN)
    answer = await press(store, clock, PRIYA, "research.send", case=CASE, **RESEARCH)
    assert answer["value"] == (f"The meeting for {CASE} has begun: add your agency's "
                               "information on the case card there.")
    assert await returned(store) == []


async def test_empty_research_is_refused_on_the_card_again(store, clock):
    await seeded(store, clock)
    answer = json.dumps(await press(store, clock, PRIYA, "research.send", case=CASE,
                                    information="  "))
    assert "Write what your agency holds, or choose not known to us." in answer
    assert '"verb": "research.send"' in answer
    assert await returned(store) == []


async def test_observers_never_get_a_research_card(store, clock):
    await seeded(store, clock)
    for verb in ("research.open", "research.send"):
        answer = await press(store, clock, OWEN, verb, case=CASE, **RESEARCH)
        assert "research" not in json.dumps(answer).lower().replace(verb, "")
        assert answer["type"].endswith("message"), answer
    assert await returned(store) == []


async def test_the_reminder_skips_research_already_returned(store, clock):
    await seeded(store, clock)
    clock.set(ON_TIME.replace(hour=8))
    await press(store, clock, PRIYA, "research.send", case=CASE, **RESEARCH)
    clock.set(ON_TIME)
    async with store.unit_of_work() as session:
        reminders = {r.agency: r.case_numbers for r in await claim_due_reminders(
            session, clock.now())}
    assert CASE not in reminders["Police"] and len(reminders["Police"]) == 3
    assert CASE in reminders["IDVA Service"]


async def test_the_case_list_links_each_case_to_its_research_card(store, clock):
    await seeded(store, clock)
    async with store.unit_of_work() as session:
        marac = await session.scalar(select(Marac).where(Marac.name == DEMO_MARAC))
        meeting = await session.scalar(select(Meeting).where(Meeting.marac_id == marac.id))
        card = json.dumps(case_list_card(await circulate(session, marac, meeting,
                                                         clock.now())).to_dict())
    assert card.count('"title": "Research RIV-') == 4
    assert '"verb": "research.open"' in card and f'"case": "{CASE}"' in card


async def test_an_absent_agencys_research_is_counted_and_on_the_plan_as_sent_before(store,
                                                                                   clock):
    """Imogen (IDVA Service, a core agency) returns research and does not attend: the case
    card counts it, and the plan records it as sent before the meeting."""
    await seeded(store, clock)
    clock.set(ON_TIME)
    await press(store, clock, IMOGEN, "research.send", case=CASE, **RESEARCH)
    clock.set(MEETING)
    async with store.unit_of_work() as session:
        marac = await session.scalar(select(Marac).where(Marac.name == DEMO_MARAC))
        chair = await session.scalar(select(Person.id).where(
            Person.aad_object_id == DEMO_PEOPLE[1].aad_object_id))
        await run.start(session, marac.id, CHANNEL, chair, clock.now())
    await next_case(store, clock)
    async with store.unit_of_work() as session:
        marac = await session.scalar(select(Marac).where(Marac.name == DEMO_MARAC))
        case = await session.scalar(select(Case).where(Case.number == CASE))
        meeting = await session.get_one(Meeting, case.meeting_id)
        card = json.dumps((await case_card_view(session, marac, meeting, case,
                                                clock.now())).to_dict())
        agencies = {a.name: a.id for a in (await session.scalars(
            select(Agency).where(Agency.marac_id == marac.id))).all()}
        await case_work.add_action(session, case, action_fields(
            "IDVA Service", "Imogen", clock.now().date() + timedelta(days=7)), agencies, chair,
            clock.now().date(), "press-idva")
    assert "1 agency has shared information (1 before the meeting)" in card
    clock.set(MEETING + timedelta(minutes=15))
    await next_case(store, clock)
    await tick(store, clock)  # the timer writes the closed case's plan
    [plan] = await versions(store, CASE)
    information = dict(tuple(pair) for pair in plan.content["information"])
    assert information["IDVA Service"].startswith("Sent before the meeting: Two call-outs")
    assert "Actions proposed: Cocoon watch on the street." in information["IDVA Service"]


async def test_research_is_due_the_working_day_before_across_christmas(store, clock):
    """A meeting on Tuesday 29 December 2026: Monday 28th is the Boxing Day bank holiday
    (substitute), so research is due on Thursday 24th, and on Sunday 27th it is late."""
    await seeded(store, clock)
    async with store.unit_of_work() as session:
        meeting = await session.scalar(select(Meeting))
        meeting.starts_at = datetime(2026, 12, 29, 9, 30, tzinfo=UTC)
    clock.set(datetime(2026, 12, 24, 21, 0, tzinfo=UTC))
    opened = json.dumps(await press(store, clock, PRIYA, "research.open", case=CASE))
    assert "Thursday 24 December 2026" in opened
    answer = json.dumps(await press(store, clock, PRIYA, "research.send", case=CASE,
                                    **RESEARCH))
    assert "Research sent on time." in answer
    clock.set(datetime(2026, 12, 27, 12, 0, tzinfo=UTC))
    answer = json.dumps(await press(store, clock, PRIYA, "research.send", case=CASE,
                                    **RESEARCH))
    assert "marked late" in answer
    [sent] = await returned(store)
    assert sent.late
