"""Apologies and deputies (issue 16): a representative sends apologies for the next meeting
and names a deputy from their agency, who is sent the case list, confirms attendance for the
agency at that meeting and is refused at the next; the attendance card shows the apologies.
A refusal is one sentence and stores nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import NamedTuple

from sqlalchemy import func, select

from cards.circulation import case_list_card
from dialogs import meeting as run
from dialogs.circulation import case_list_of
from dialogs.demo import DEMO_MARAC, DEMO_PEOPLE, DEMO_TENANT, seed_demo
from storage.models import (
    Agency,
    Apology,
    Attendance,
    Marac,
    Meeting,
    MeetingStatus,
    OutboxMessage,
    Person,
)
from tests.store.meeting_factory import CHANNEL
from tests.store.test_closed_panel import press_in_channel
from tests.store.test_marac_scope import personal
from tests.store.test_research import CASE, MEETING, RESEARCH, press, seeded
from tests.turns import handle_card_action, handle_message

CHRIS, PRIYA, IMOGEN = DEMO_PEOPLE[1], DEMO_PEOPLE[3], DEMO_PEOPLE[4]


class Someone(NamedTuple):
    aad_object_id: str
    full_name: str
    teams_user_id: str


DEE = Someone("0d3a1c00-0000-4000-8000-0000000000de", "Dee Lawson", "user-id-dee")


async def seeded_with_dee(store, clock) -> int:
    """The demo MARAC and Dee, an IDVA colleague of Imogen's with no role of her own: Dee's
    person id."""
    async with store.unit_of_work() as session:
        await seed_demo(session, clock.now())
        idva = await session.scalar(select(Agency.id).where(Agency.name == "IDVA Service"))
        dee = Person(tenant_id=DEMO_TENANT, aad_object_id=DEE.aad_object_id, first_name="Dee",
                     agency_id=idva, teams_user_id=DEE.teams_user_id)
        session.add(dee)
        await session.flush()
        return dee.id


async def say(store, clock, who, text: str) -> str:
    posts = await handle_message(personal(who.aad_object_id, text), store, clock)
    return " ".join(post.message.text or "" for post in posts)


async def start_meeting(store, clock, meeting_id: int) -> None:
    async with store.unit_of_work() as session:
        marac = await session.scalar(select(Marac).where(Marac.name == DEMO_MARAC))
        chair = await session.scalar(select(Person.id).where(
            Person.aad_object_id == CHRIS.aad_object_id))
        meeting, _ = await run.start(session, marac.id, CHANNEL, chair, clock.now())
        assert meeting.id == meeting_id


async def confirm(store, clock, who) -> dict:
    activity, action = press_in_channel(who, "attendance.confirm",
                                        role="agency_representative")
    answer, _, _ = await handle_card_action(activity, action, store, clock)
    return answer


async def attendances(store, meeting_id: int) -> list[tuple[int, int | None]]:
    async with store.unit_of_work() as session:
        return list((await session.execute(
            select(Attendance.person_id, Attendance.agency_id)
            .where(Attendance.meeting_id == meeting_id))).tuples().all())


async def marac_id(store) -> int:
    async with store.unit_of_work() as session:
        found = await session.scalar(select(Marac.id))
    assert found is not None
    return found


async def first_meeting(store) -> int:
    async with store.unit_of_work() as session:
        found = await session.scalar(select(Meeting.id))
    assert found is not None
    return found


async def test_a_deputy_attends_for_the_agency_that_meeting_only(store, clock):
    dee = await seeded_with_dee(store, clock)
    answer = await say(store, clock, IMOGEN, "apologies Dee")
    assert "Apologies sent for the meeting on Wednesday 02 December at 09:30." in answer
    assert "Dee attends as your agency's deputy" in answer
    async with store.unit_of_work() as session:
        purposes = (await session.scalars(select(OutboxMessage.purpose).where(
            OutboxMessage.person_id == dee))).all()
    assert purposes == ["case list"]

    meeting_id = await first_meeting(store)
    clock.set(MEETING)
    await start_meeting(store, clock, meeting_id)
    card = json.dumps(await confirm(store, clock, DEE))
    assert "apologies, deputy Dee" in card
    async with store.unit_of_work() as session:
        idva = await session.scalar(select(Agency.id).where(Agency.name == "IDVA Service"))
    assert await attendances(store, meeting_id) == [(dee, idva)]

    async with store.unit_of_work() as session:  # the meeting ends; the next week's starts
        first = await session.get_one(Meeting, meeting_id)
        first.status = MeetingStatus.ENDED
        later = Meeting(marac_id=first.marac_id, starts_at=MEETING + timedelta(days=7))
        session.add(later)
        await session.flush()
        next_week = later.id
    clock.set(MEETING + timedelta(days=7))
    await start_meeting(store, clock, next_week)
    refused = await confirm(store, clock, DEE)
    assert refused["type"].endswith("message") and "." in refused["value"]
    assert await attendances(store, next_week) == []


async def test_apologies_with_research_sent_show_on_the_attendance_card(store, clock):
    await seeded_with_dee(store, clock)
    assert "Apologies sent" in await say(store, clock, IMOGEN, "apologies")
    action = {"type": "Action.Execute", "verb": "research.send",
              "data": {"verb": "research.send", "case": CASE, **RESEARCH}}
    await handle_card_action(personal(IMOGEN.aad_object_id, invoke=action), action, store,
                             clock)
    meeting_id = await first_meeting(store)
    clock.set(MEETING)
    await start_meeting(store, clock, meeting_id)
    card = json.dumps(await confirm(store, clock, PRIYA))
    assert '"title": "IDVA Service", "value": "apologies, information sent"' in card
    assert "Core agencies missing: Children's Social Care" in card  # IDVA is accounted for


async def test_a_deputy_from_another_agency_is_refused_and_nothing_stored(store, clock):
    await seeded_with_dee(store, clock)
    answer = await say(store, clock, IMOGEN, "apologies Priya")
    assert answer == ("No one named Priya is on record at IDVA Service; ask your coordinator "
                      "to add your deputy first.")
    async with store.unit_of_work() as session:
        assert await session.scalar(select(func.count()).select_from(Apology)) == 0
    dee_says = await say(store, clock, DEE, "apologies")  # Dee holds no role of her own
    assert not dee_says.startswith("Apologies sent"), dee_says
    async with store.unit_of_work() as session:
        assert await session.scalar(select(func.count()).select_from(Apology)) == 0


async def test_a_deputy_opens_the_research_card_in_personal_chat_until_the_meeting_ends(
        store, clock):
    """Dee has no role of her own: named deputy, she holds the representative's role in
    personal chat while the meeting is upcoming, so she can return IDVA Service's research."""
    await seeded_with_dee(store, clock)
    refused = await press(store, clock, DEE, "research.open", case=CASE)
    assert refused["type"].endswith("message"), refused  # not yet a deputy
    await say(store, clock, IMOGEN, "apologies Dee")
    opened = json.dumps(await press(store, clock, DEE, "research.open", case=CASE))
    assert "IDVA Service's research" in opened

    async with store.unit_of_work() as session:
        meeting = await session.get_one(Meeting, await first_meeting(store))
        meeting.status = MeetingStatus.ENDED
    after = await press(store, clock, DEE, "research.open", case=CASE)
    assert after["type"].endswith("message"), after
    assert "IDVA Service's research" not in json.dumps(after)


async def test_apologies_are_sent_from_the_case_lists_button(store, clock):
    dee = await seeded_with_dee(store, clock)
    meeting_id = await first_meeting(store)
    answer = await press(store, clock, IMOGEN, "apologies.send",
                         marac=str(await marac_id(store)), meeting=str(meeting_id), deputy="Dee")
    assert answer["value"].startswith("Apologies sent for the meeting on Wednesday 02 December")
    assert "Dee attends as your agency's deputy" in answer["value"]
    async with store.unit_of_work() as session:
        stored = (await session.execute(select(Apology.meeting_id, Apology.deputy_person_id))
                  ).tuples().all()
    assert stored == [(meeting_id, dee)]


async def test_apologies_pressed_for_a_meeting_that_is_not_next_are_refused(store, clock):
    await seeded_with_dee(store, clock)
    answer = await press(store, clock, IMOGEN, "apologies.send",
                         marac=str(await marac_id(store)), meeting="999999", deputy="")
    assert answer["value"] == ("That meeting has begun or passed: apologies go to the next one, "
                               "from its case list.")
    async with store.unit_of_work() as session:
        assert await session.scalar(select(func.count()).select_from(Apology)) == 0


async def test_the_case_list_offers_apologies_for_its_meeting(store, clock):
    await seeded(store, clock)
    async with store.unit_of_work() as session:
        marac = await session.scalar(select(Marac))
        meeting = await session.scalar(select(Meeting))
        shown = await case_list_of(session, marac, meeting, ())
        card = json.dumps(case_list_card(shown).to_dict())
    assert '"verb": "apologies.send"' in card and '"id": "deputy"' in card
