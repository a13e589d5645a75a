"""What is done to a case while its slot runs (../shared/MARAC.md, "At the meeting"): each
agency records what it shares, actions are agreed with an owner, a due date and whom they are
for, someone knowing a person discussed declares it; and what an entitled person sees."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from dialogs import meeting as run
from dialogs.case_work import (
    NO_INFORMATION,
    ActionLine,
    InformationLine,
    add_action,
    add_information,
    declare_knowing,
    set_victim_contact,
    view,
)
from dialogs.dash import QUESTIONS
from dialogs.demo import DEMO_AGENCIES
from dialogs.meeting import MeetingError
from storage.models import (
    ActionOrigin,
    AgencyInformation,
    Case,
    ConflictDeclaration,
    PlannedAction,
)
from tests.store.meeting_factory import (
    CHANNEL,
    case_named,
    later,
    next_case,
    seed,
    started,
)
from tests.store.referral_factory import accept, card_payload, dash_answers, refer

AGENCY_NAMES = [name for name, _, _ in DEMO_AGENCIES]


def refused(sentence: str):
    return pytest.raises(MeetingError, match=f"^{re.escape(sentence)}$")


async def share(store, clock, demo, number: str, agency: str, text: str,
                not_involved: bool = False, by: str = "Priya") -> None:
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        await add_information(session, case, demo.agencies[agency], text, not_involved,
                              demo.people[by], clock.now())


def good_action(clock, **overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "agency": "Police", "owner": "Priya",
        "description": "Serve the  non-molestation order\nby Friday.", "for_whom": "victim",
        "risk": "Threats to kill.",
        "due_on": (clock.now().date() + timedelta(days=3)).isoformat(),
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


async def plan(store, clock, demo, number: str, fields: dict[str, object], key: str
               ) -> PlannedAction:
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        return await add_action(session, case, fields, demo.agencies, demo.people["Priya"],
                                clock.now().date(), key)


async def meeting_actions(store) -> list[PlannedAction]:
    async with store.unit_of_work() as session:
        return list((await session.scalars(select(PlannedAction).where(
            PlannedAction.origin == ActionOrigin.MEETING).order_by(PlannedAction.id))).all())


async def seen(store, demo, number: str):
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        return await view(session, case, demo.marac_id)


async def open_first(store, clock):
    demo = await started(store, clock)
    await next_case(store, clock)
    return demo, demo.numbers[0]


# --- agency information --------------------------------------------------------------------

async def test_information_needs_text_unless_the_agency_is_not_involved(store, clock):
    demo, number = await open_first(store, clock)
    with refused("Write what your agency holds, or choose not involved."):
        await share(store, clock, demo, number, "Police", "  \n ")
    await share(store, clock, demo, number, "Housing", "", not_involved=True, by="Cara")
    async with store.unit_of_work() as session:
        rows = (await session.scalars(select(AgencyInformation))).all()
    assert [(r.agency_id, r.not_involved, r.text) for r in rows] == [
        (demo.agencies["Housing"], True, "Not involved: systems flagged.")]


async def test_sending_information_again_replaces_it(store, clock):
    demo, number = await open_first(store, clock)
    await share(store, clock, demo, number, "Police", "Two call-outs in 2026.")
    sent_again = later(clock, 120)
    await share(store, clock, demo, number, "Police", "  Three call-outs in 2026. ",
                by="Imogen")
    async with store.unit_of_work() as session:
        rows = (await session.scalars(select(AgencyInformation))).all()
    assert [(r.text, r.not_involved, r.sent_by_person_id, r.sent_at) for r in rows] == [
        ("Three call-outs in 2026.", False, demo.people["Imogen"], sent_again)]
    await share(store, clock, demo, number, "Police", "", not_involved=True)
    lines = {line.agency: line.text for line in (await seen(store, demo, number)).information}
    assert lines["Police"] == "Not involved: systems flagged."


async def test_information_over_four_thousand_characters_is_refused(store, clock):
    demo, number = await open_first(store, clock)
    with refused("Keep the information under 4,000 characters."):
        await share(store, clock, demo, number, "Police", "x" * 4001)
    await share(store, clock, demo, number, "Police", "x" * 4000)


async def test_a_case_that_is_not_open_takes_no_information_or_actions(store, clock):
    demo, _ = await open_first(store, clock)
    waiting = demo.numbers[1]
    with refused(f"{waiting} is not open for planning now."):
        await share(store, clock, demo, waiting, "Police", "Known to us.")
    with refused(f"{waiting} is not open for planning now."):
        await plan(store, clock, demo, waiting, good_action(clock), "card-1")
    later(clock, 60)
    await next_case(store, clock)  # the first is closed now
    with refused(f"{demo.numbers[0]} is not open for planning now."):
        await plan(store, clock, demo, demo.numbers[0], good_action(clock), "card-2")
    assert await meeting_actions(store) == []


# --- actions -------------------------------------------------------------------------------

async def test_an_action_is_recorded_with_its_owner_due_date_and_whom_it_is_for(store, clock):
    demo, number = await open_first(store, clock)
    action = await plan(store, clock, demo, number, good_action(clock), "card-1")
    stored = await meeting_actions(store)
    assert [a.id for a in stored] == [action.id]
    (saved,) = stored
    assert saved.owning_agency_id == demo.agencies["Police"]
    assert (saved.owner, saved.description, saved.for_whom, saved.risk) == (
        "Priya", "Serve the non-molestation order by Friday.", "victim", "Threats to kill.")
    assert saved.due_on == clock.now().date() + timedelta(days=3)
    assert saved.added_by_person_id == demo.people["Priya"]


async def test_an_action_due_today_is_accepted(store, clock):
    demo, number = await open_first(store, clock)
    await plan(store, clock, demo, number,
               good_action(clock, due_on=clock.now().date().isoformat()), "card-1")
    assert len(await meeting_actions(store)) == 1


@pytest.mark.parametrize(("overrides", "sentence"), [
    ({"owner": None}, "An action needs an owner."),
    ({"owner": "   "}, "An action needs an owner."),
    ({"description": None}, "An action needs what is to be done."),
    ({"description": 42}, "An action needs what is to be done."),
    ({"risk": ""}, "An action needs the risk it addresses."),
    ({"for_whom": "neighbour"}, "Say whom the action is for: the victim, the perpetrator or "
                                "the children."),
    ({"for_whom": None}, "Say whom the action is for: the victim, the perpetrator or the "
                         "children."),
    ({"agency": "Fire Service"}, "'Fire Service' is not one of this MARAC's agencies."),
    ({"agency": None}, "An action needs an owning agency."),
    ({"due_on": None}, "An action needs a due date."),
    ({"due_on": "next Friday"}, "The due date must be a date like 2026-12-02."),
    ({"due_on": "2026-12-01"}, "The due date cannot be in the past."),
])
async def test_an_incomplete_action_is_refused_and_nothing_is_stored(store, clock, overrides,
                                                                      sentence):
    demo, number = await open_first(store, clock)
    assert clock.now().date().isoformat() == "2026-12-02"  # the meeting day
    with refused(sentence):
        await plan(store, clock, demo, number, good_action(clock, **overrides), "card-1")
    assert await meeting_actions(store) == []


async def test_the_same_press_twice_adds_the_action_once(store, clock):
    demo, number = await open_first(store, clock)
    first = await plan(store, clock, demo, number, good_action(clock), "msg-7:card-1")
    again = await plan(store, clock, demo, number, good_action(clock, owner="Sam"),
                       "msg-7:card-1")
    assert again.id == first.id and again.owner == "Priya"
    other = await plan(store, clock, demo, number, good_action(clock), "msg-8:card-1")
    assert [a.id for a in await meeting_actions(store)] == [first.id, other.id]


# --- the victim contact --------------------------------------------------------------------

async def test_one_person_is_named_to_update_the_victim(store, clock):
    demo, number = await open_first(store, clock)
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        with refused("Name the person who will update the victim."):
            set_victim_contact(case, "   ")
        set_victim_contact(case, "  Imogen   (IDVA) ")
    assert (await case_named(store, number)).victim_contact == "Imogen (IDVA)"


# --- declarations --------------------------------------------------------------------------

async def test_declaring_knowing_someone_is_recorded_once(store, clock):
    demo, number = await open_first(store, clock)

    async def declare(first_name: str) -> bool:
        async with store.unit_of_work() as session:
            case = await session.scalar(select(Case).where(Case.number == number))
            assert case is not None
            return await declare_knowing(session, case, demo.people[first_name], clock.now())

    assert (await case_named(store, number)).declaration_pending is False
    assert await declare("Owen") is True
    assert (await case_named(store, number)).declaration_pending is True
    later(clock, 30)
    assert await declare("Owen") is False
    assert await declare("Priya") is True
    async with store.unit_of_work() as session:
        rows = (await session.execute(select(ConflictDeclaration.person_id, func.count())
                                      .group_by(ConflictDeclaration.person_id))).all()
    assert sorted(rows) == sorted([(demo.people["Owen"], 1), (demo.people["Priya"], 1)])


async def test_a_double_press_in_one_turn_declares_once(store, clock):
    demo, number = await open_first(store, clock)
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        first = await declare_knowing(session, case, demo.people["Owen"], clock.now())
        second = await declare_knowing(session, case, demo.people["Owen"], clock.now())
    assert (first, second) == (True, False)


# --- what an entitled person sees ----------------------------------------------------------

async def test_the_view_shows_what_each_agency_holds_or_that_it_holds_nothing(store, clock):
    demo, number = await open_first(store, clock)
    await share(store, clock, demo, number, "Police", "Two call-outs in 2026.")
    await share(store, clock, demo, number, "Housing", "", not_involved=True)
    shown = await seen(store, demo, number)
    assert shown.referral is None and shown.risks == ()
    assert shown.information == tuple(
        InformationLine(name, {"Police": "Two call-outs in 2026.",
                               "Housing": "Not involved: systems flagged."}
                        .get(name, NO_INFORMATION))
        for name in AGENCY_NAMES)
    assert NO_INFORMATION == "No relevant information held."


async def test_the_view_of_a_referred_case_shows_its_risks_and_its_plan(store, clock):
    demo = await seed(store, clock)
    meeting_day = clock.now()
    clock.set(datetime(2026, 11, 24, 14, 0, tzinfo=UTC))
    # Received on Tuesday 17 November: 7 to 14 working days later is the demo meeting.
    payload = card_payload(received_on="2026-11-17", incident_date="2026-11-16",
                           **dash_answers(15, otherwise="dont_know"))
    payload[QUESTIONS[15].key] = "no"
    referral = await refer(store, clock, demo.marac_id, payload)
    outcome = await accept(store, clock, demo.marac_id, referral.id)
    assert outcome.placement is not None
    assert outcome.placement.meeting.id == demo.meeting_id
    number = outcome.placement.case.number
    clock.set(meeting_day)
    async with store.unit_of_work() as session:
        await run.start(session, demo.marac_id, CHANNEL, demo.chair, clock.now())
    for _ in range(5):
        later(clock, 60)
        opened = (await next_case(store, clock))[1]
    assert opened == number
    await share(store, clock, demo, number, "IDVA Service", "The victim wants to stay put.",
                by="Imogen")
    due = clock.now().date() + timedelta(days=5)
    await plan(store, clock, demo, number,
               good_action(clock, agency="Housing", owner="Sam", for_whom="children",
                           description="Fit a sanctuary scheme.", due_on=due.isoformat()),
               "card-9")
    shown = await seen(store, demo, number)
    assert shown.referral is not None and shown.referral.id == referral.id
    # The outstanding risks are the checklist's "yes" answers, in the checklist's order.
    assert shown.risks == tuple(q.text for q in QUESTIONS[:15])
    assert dict((line.agency, line.text) for line in shown.information) == {
        name: ("The victim wants to stay put." if name == "IDVA Service" else NO_INFORMATION)
        for name in AGENCY_NAMES}
    # The plan: the referral's starters, then what the meeting agreed, with owner and date.
    assert [(a.agency, a.owner, a.due_on) for a in shown.actions[:-1]] == [
        ("IDVA Service", "", None), ("Police", "", None)]
    assert shown.actions[-1] == ActionLine(
        "Housing", "Sam", "Fit a sanctuary scheme.", "children", "Threats to kill.", due,
        False)
