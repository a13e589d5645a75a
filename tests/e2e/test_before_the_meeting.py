"""The week before the meeting, through the Agents Playground, on a stack of its own (the
dissemination stack's: slots longer than the test, the timer runner waking often), with
Teams' one connector in front of each person's Playground (test_dissemination.py's fixtures).

Four working days ahead the case list reaches Priya (Police) and Imogen (IDVA Service); each
opens a case's research card from it and returns research. Imogen sends apologies; Priya,
away too, names Owen as Police's deputy (Owen is an observer of the MARAC who also works for
the Police: the demo's people have no second Police officer with a Playground seat). One
working day ahead only agencies still owing research are reminded. At the meeting Owen
confirms attendance for Police, the case card counts the research sent beforehand, and the
plan shows Police's and the absent IDVA Service's research as sent before the meeting. The
next week Owen is only an observer again. Then Priya's referrals are triaged and she is told:
accepted with the date and slot, declined with the reason, and asked a question whose answer
puts the referral back in triage with the answer shown.

The tests of one backend share the week, in file order, so a failure early on fails the rest.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from dialogs.circulation import case_list_due_at, reminders_due_at
from dialogs.clock import set_clock
from storage.models import Agency, Case, Marac, Meeting, OutboxMessage, Person, PlanVersion
from tests.clock import PATIENCE

from .conftest import Stack
from .playground_client import (
    CHRIS,
    OWEN,
    PlaygroundClient,
    card_texts,
    cards_of,
    facts_of,
    text_of,
)
from .test_dissemination import (  # noqa: F401  (the fixtures are used by name)
    LONDON,
    QUIET_PERIOD,
    AfterMeeting,
    after,
    cara,
    connector,
    db,
    from_bot_in,
    personal_chat,
    received,
    seated,
)
from .test_meeting import (
    an_action,
    answered_card,
    answered_sentence,
    command,
    find_button,
    press,
)
from .test_playground import card_problems, the_card
from .test_referrals import (
    answers,
    buttons_of,
    case_details,
    checklist_keys,
    inputs_of,
    submit,
    triage_entries,
)
from .test_referrals import press as press_personal

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

CASE_LIST = "Riverside MARAC: case list for "
POLICE_RESEARCH = {
    "information": "Three callouts to the address since June; the perpetrator is on bail.",
    "risks": "Bail conditions breached twice.",
    "actions_taken": "Bail breach reported to court.",
    "actions_proposed": "Marker on the address.",
}
IDVA_RESEARCH = {"information": "Amy is engaged with an IDVA; a safety plan is in place."}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def week(after: AfterMeeting, db: AsyncEngine) -> AfterMeeting:  # noqa: F811
    """Owen, an observer of the MARAC, works for the Police too: he can be named its deputy."""
    async with AsyncSession(db) as session, session.begin():
        police = await session.scalar(select(Agency.id).where(Agency.name == "Police"))
        owen = [p.id for p in (await session.scalars(select(Person))).all()
                if p.first_name == "Owen"]  # encrypted: compared once decrypted
        await session.execute(update(Person).where(Person.id.in_(owen))
                              .values(agency_id=police))
    return after


async def due_times(db: AsyncEngine) -> tuple[datetime, datetime, datetime]:  # noqa: F811
    """When the demo meeting's case list and reminders are due, and when it starts."""
    async with AsyncSession(db) as session:
        marac = await session.scalar(select(Marac))
        meeting = await session.scalar(select(Meeting).order_by(Meeting.starts_at))
        assert marac is not None and meeting is not None
        return (case_list_due_at(marac, meeting), reminders_due_at(marac, meeting),
                meeting.starts_at)


def research_button(card: dict[str, Any], number: str) -> dict[str, Any]:
    found = [b for b in buttons_of(card).values()
             if b.get("verb") == "research.open" and b.get("data", {}).get("case") == number]
    assert found, f"no research button for {number}: {list(buttons_of(card))}"
    return found[0]


async def return_research(client: PlaygroundClient, agency: str, case_list: Any, number: str,
                          values: dict[str, str]) -> list[str]:
    """From the case list in the seat's chat: open the case's research card and send it."""
    message = case_list["message"]["messageId"]
    card = the_card(case_list)
    opened = await press_personal(client, client.current_user, message,
                                  research_button(card, number), {})
    assert card_texts(opened)[0] == f"{number}: {agency}'s research"
    assert ("Returned", "not yet") in facts_of(opened)
    sent = await press_personal(client, client.current_user, message,
                                buttons_of(opened)["Send research"],
                                {**inputs_of(opened), **values})
    return card_texts(sent)


async def the_case_list(client: PlaygroundClient) -> Any:
    chat = personal_chat(client)
    return await client.wait_for(
        lambda f: from_bot_in(chat)(f) and any(
            t.startswith(CASE_LIST) for c in cards_of(f) for t in card_texts(c)[:1]),
        since=0, what=f"the case list in {chat}")


# --- 1. research returned from the case list -----------------------------------------------

async def test_representatives_return_research_from_the_case_list(
        dissemination_stack: Stack, seated: dict[str, PlaygroundClient], db: AsyncEngine,  # noqa: F811
        week: AfterMeeting) -> None:
    stack, first = dissemination_stack, week.number(1)
    case_list_due, _, _ = await due_times(db)
    set_clock(stack.clock_file, case_list_due + timedelta(minutes=1))
    priya, imogen = seated["priya"], seated["imogen"]

    said = await return_research(priya, "Police", await the_case_list(priya), first,
                                 POLICE_RESEARCH)
    assert "Research sent on time." in said
    for slot in (2, 3, 4):  # the Police hold nothing on the others: systems flagged
        said = await return_research(priya, "Police", await the_case_list(priya),
                                     week.number(slot),
                                     {"not_known": "true"})
        assert "Research sent on time." in said
    said = await return_research(imogen, "IDVA Service", await the_case_list(imogen), first,
                                 IDVA_RESEARCH)
    assert "Research sent on time." in said

    # Imogen sends apologies from her case list's button, Priya by typing, naming Owen.
    case_list = await the_case_list(imogen)
    assert card_problems(the_card(case_list)) == []
    answer = await imogen.invoke(personal_chat(imogen), imogen.current_user,
                                 case_list["message"]["messageId"], "apologies.send",
                                 {**find_button(the_card(case_list), "apologies.send")[0]["data"],
                                  "deputy": ""})
    assert str(answer["value"]).startswith("Apologies sent for the meeting"), answer
    chat, since = personal_chat(priya), priya.mark()
    await priya.say(chat, priya.current_user, "apologies Owen")
    deputy = text_of(await priya.wait_for(
        lambda f: from_bot_in(chat)(f) and text_of(f).startswith("Apologies sent"),
        since=since, what="Priya's apologies answered"))
    assert deputy.endswith("Owen attends as your agency's deputy at that meeting only and has "
                           "been sent the case list."), deputy

    # Owen, the deputy, opens the Police's research card from the case list he was sent.
    owen = seated["owen"]
    owens_list = await the_case_list(owen)
    opened = await press_personal(owen, owen.current_user, owens_list["message"]["messageId"],
                                  research_button(the_card(owens_list), first), {})
    assert card_texts(opened)[0] == f"{first}: Police's research"
    assert ("Returned", "yes, on time") in facts_of(opened)


async def test_the_reminder_goes_only_to_agencies_still_owing_research(
        dissemination_stack: Stack, seated: dict[str, PlaygroundClient], db: AsyncEngine,  # noqa: F811
        week: AfterMeeting) -> None:
    _, reminders_due, _ = await due_times(db)
    set_clock(dissemination_stack.clock_file, reminders_due + timedelta(minutes=1))
    reminder = await received(seated["imogen"], "IDVA Service: information due for "
                              + await meeting_words(db))
    owed = [title for title, _ in facts_of(the_card(reminder))]
    assert owed == [week.number(n) for n in (2, 3, 4)], owed  # case 1's was returned
    async with AsyncSession(db) as session:
        names = {p.id: p.first_name for p in (await session.scalars(select(Person))).all()}
        reminded = {names.get(p or 0) for p in (await session.scalars(
            select(OutboxMessage.person_id)
            .where(OutboxMessage.purpose == "information reminder"))).all()}
    # not Priya: the Police returned all four
    assert reminded == {"Imogen", "Sam", "Pat"}, reminded
    await asyncio.sleep(QUIET_PERIOD)
    chat = personal_chat(seated["priya"])
    assert not [f for f in seated["priya"].frames if from_bot_in(chat)(f) and any(
        "information due" in t for c in cards_of(f) for t in card_texts(c)[:1])]


async def meeting_words(db: AsyncEngine) -> str:  # noqa: F811
    _, _, starts_at = await due_times(db)
    return f"{starts_at.astimezone(LONDON):%A %d %B %Y, %H:%M}"


# --- 2. the meeting: the deputy attends, the research is counted and on the plan ------------

async def test_the_deputy_attends_and_the_research_is_counted_and_on_the_plan(
        dissemination_stack: Stack, cara: PlaygroundClient, db: AsyncEngine,  # noqa: F811
        week: AfterMeeting) -> None:
    stack, first = dissemination_stack, week.number(1)
    _, _, starts_at = await due_times(db)
    set_clock(stack.clock_file, starts_at - timedelta(minutes=5))
    _, attendance, _ = await command(cara, stack, CHRIS, "start", posts=3)
    card_id = attendance["message"]["messageId"]
    shown_apologies = dict(facts_of(the_card(attendance)))
    assert shown_apologies.get("Police") == "apologies, deputy Owen", shown_apologies
    assert shown_apologies.get("IDVA Service") == "apologies, information sent"

    confirmed = answered_card(await press(cara, OWEN, card_id, the_card(attendance),
                                          "attendance.confirm", role="agency_representative",
                                          agency="Police"))
    assert ("Police", "Owen") in facts_of(confirmed)

    [opened] = await command(cara, stack, CHRIS, "next")
    case_card = the_card(opened)
    assert card_texts(case_card)[0] == f"{first} · Amy"
    assert ("2 agencies have shared information (2 before the meeting); 0 actions agreed."
            in card_texts(case_card))
    due_on = (starts_at + timedelta(days=7)).astimezone(LONDON).date().isoformat()
    case_id = opened["message"]["messageId"]
    answered_card(await press(cara, OWEN, case_id, case_card, "case.action",  # as deputy
                              **an_action(owner="Owen", due_on=due_on)))
    answered_card(await press(cara, CHRIS, case_id, case_card, "case.action", **an_action(
        agency="IDVA Service", owner="Imogen", description="Agree a safety plan with Amy",
        risk="Isolation", due_on=due_on)))
    answered_card(await press(cara, CHRIS, case_id, case_card, "case.contact",
                              victim_contact="Owen"))
    [summary] = await command(cara, stack, CHRIS, "end")
    assert card_texts(the_card(summary))[0] == "Riverside MARAC: meeting closed"

    await plan_written(db, first)
    plan = facts_of(the_card(await answered(cara, f"plan {first}",
                                            f"Plan {first} · Amy")))
    police = f"Sent before the meeting: {POLICE_RESEARCH['information']} Risks seen: "
    assert any(t == "Police" and v.startswith(police) for t, v in plan), plan
    assert ("IDVA Service", f"Sent before the meeting: {IDVA_RESEARCH['information']}") in plan


async def plan_written(db: AsyncEngine, number: str) -> None:  # noqa: F811
    """Until the timer has written the closed case's plan."""
    deadline = asyncio.get_running_loop().time() + PATIENCE
    while True:
        async with AsyncSession(db) as session:
            if await session.scalar(select(PlanVersion.id).join(Case).where(
                    Case.number == number)) is not None:
                return
        assert asyncio.get_running_loop().time() < deadline, f"no plan for {number}"
        await asyncio.sleep(0.1)


async def test_the_deputy_is_refused_the_next_week(
        dissemination_stack: Stack, cara: PlaygroundClient, db: AsyncEngine,  # noqa: F811
        week: AfterMeeting) -> None:
    stack = dissemination_stack
    _, _, starts_at = await due_times(db)
    next_week = starts_at + timedelta(days=7)
    async with AsyncSession(db) as session, session.begin():
        marac = await session.scalar(select(Marac))
        assert marac is not None
        meeting = Meeting(marac_id=marac.id, starts_at=next_week)
        meeting.cases = [Case(number=week.number(9), slot=1, victim_first_name="Ivy")]
        session.add(meeting)
    set_clock(stack.clock_file, next_week - timedelta(minutes=5))
    _, attendance, _ = await command(cara, stack, CHRIS, "start", posts=3)
    refused = await press(cara, OWEN, attendance["message"]["messageId"], the_card(attendance),
                          "attendance.confirm", role="agency_representative", agency="Police")
    assert answered_sentence(refused) == ("You are not an agency representative of this MARAC; "
                                          "attend as an observer.")
    await command(cara, stack, CHRIS, "end")


# --- 3. the referrer is told --------------------------------------------------------------

async def answered(client: PlaygroundClient, text: str, heading: str) -> Any:
    """The seat's user types `text`; the bot's card in answer, by its heading (the timer's
    reminders may arrive in the same chat meanwhile)."""
    chat, since = personal_chat(client), client.mark()
    await client.say(chat, client.current_user, text)
    return await client.wait_for(
        lambda f: from_bot_in(chat)(f) and any(
            card_texts(c)[:1] == [heading] for c in cards_of(f)),
        since=since, what=f"{heading!r} in answer to {text!r}")


async def refer(priya: PlaygroundClient, first_name: str, reference: str, now: datetime
                ) -> None:
    frame = await answered(priya, "refer", "Refer a case to the MARAC")
    message, form = frame["message"]["messageId"], the_card(frame)
    keys = checklist_keys(inputs_of(form))
    details = case_details(first_name, reference, now.astimezone(LONDON).date())
    summary = await submit(priya, message, form,
                           {**inputs_of(form), **details, **answers(keys, yes=15)})
    assert "Received: it meets the criteria and waits for triage." in card_texts(summary)


async def decide(cara: PlaygroundClient, first_name: str, button: str, note: str = ""  # noqa: F811
                 ) -> dict[str, Any]:
    frame = await answered(cara, "triage", "Triage")
    card = the_card(frame)
    [entry] = triage_entries(card, first_name)
    chosen = buttons_of(entry)[button]
    note_id = f"note_{chosen['data']['referral_id']}"
    return await press_personal(cara, cara.current_user, frame["message"]["messageId"], chosen,
                                {**inputs_of(card), note_id: note})


async def test_the_referrer_hears_what_became_of_each_referral(
        dissemination_stack: Stack, cara: PlaygroundClient,  # noqa: F811
        seated: dict[str, PlaygroundClient], week: AfterMeeting) -> None:  # noqa: F811
    priya, now = seated["priya"], dissemination_stack.now()
    for first_name, reference in (("Fern", "RIV-V-0201"), ("Gina", "RIV-V-0202"),
                                  ("Hana", "RIV-V-0203")):
        await refer(priya, first_name, reference, now)

    await decide(cara, "Fern", "Accept")
    accepted = card_texts(the_card(await received(priya, "Referral accepted")))
    assert any(t.startswith("Your referral RIV-V-0201 for Fern was accepted: it will be heard "
                            "at the MARAC on ") and "Expected slot: " in t for t in accepted), (
        accepted)
    assert "The perpetrator must not be told of the referral or the meeting." in accepted

    reason = "Risk is being managed by the police investigation."
    await decide(cara, "Gina", "Decline", reason)
    declined = the_card(await received(priya, "Referral declined"))
    assert ("Reason", reason) in facts_of(declined)

    question = "Are there children in the household?"
    await decide(cara, "Hana", "Needs more information", question)
    asked = await received(priya, "More information needed")
    assert ("Question", question) in facts_of(the_card(asked))
    reply = "Two children, aged 4 and 7."
    sent = await press_personal(priya, priya.current_user, asked["message"]["messageId"],
                                buttons_of(the_card(asked))["Send answer"],
                                {**inputs_of(the_card(asked)), "answer": reply})
    assert card_texts(sent)[0] == "Answer sent"

    [entry] = triage_entries(the_card(await answered(cara, "triage", "Triage")), "Hana")
    assert {("Information asked for", question), ("Referrer's answer", reply)} <= set(
        facts_of(entry))
    assert set(buttons_of(entry)) == {"Accept", "Decline", "Needs more information"}
