"""Triage's weekly rhythm (issue 16): on the triage weekday (Thursday in the demo) the triage
members are sent the queue once; a referral waiting in triage, or a deferred case, that can no
longer be heard within 14 working days of receipt is flagged to the coordinator once, on the
day that becomes certain, with England's bank holidays counted out (Christmas 2026: Friday
25 and Monday 28 December, and New Year's Day)."""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.proactive.weekly_triage import queue_weekly_triage
from dialogs.demo import DEMO_PEOPLE
from dialogs.scheduling import move_to_next_meeting
from dialogs.weekly_triage import certain_at, target_day
from storage.models import Case, Marac, Meeting, OutboxMessage, Person, Referral
from tests.store.referral_factory import accept, card_payload, refer, seeded

LONDON = ZoneInfo("Europe/London")
CARA, PRIYA, IMOGEN = DEMO_PEOPLE[0], DEMO_PEOPLE[3], DEMO_PEOPLE[4]


def london(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


async def tick(store, clock, at: datetime) -> None:
    clock.set(at)
    async with store.unit_of_work() as session:
        await queue_weekly_triage(session, at)


async def sent(store, purpose: str) -> list[tuple[str, str]]:
    """(first name of the recipient, the message as JSON) for each message of the purpose."""
    async with store.unit_of_work() as session:
        names = {p.id: p.first_name for p in (await session.scalars(select(Person))).all()}
        return [(names[m.person_id], json.dumps(m.activity)) for m in (await session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == purpose)
            .order_by(OutboxMessage.id))).all()]


async def referred_on(store, clock, marac_id: int, received: date, reference: str) -> Referral:
    clock.set(london(received, 15))
    return await refer(store, clock, marac_id, card_payload(
        received_on=received.isoformat(), incident_date=received.isoformat(),
        victim_reference=reference, victim_first_name="Jess"))


async def test_the_bank_holidays_move_the_day_the_target_becomes_impossible(store, clock):
    """Received Wednesday 16 December 2026: the 14th working day after is Friday 8 January
    (25 and 28 December and 1 January are bank holidays), so the last meeting in time is
    Wednesday 6 January, not 30 December as a calendar without holidays would say."""
    marac_id = await seeded(store, clock)
    async with store.unit_of_work() as session:
        marac = await session.get_one(Marac, marac_id)
        assert target_day(marac, date(2026, 12, 16)) == date(2027, 1, 8)
        assert certain_at(marac, date(2026, 12, 16)) == london(date(2027, 1, 6), 9, 30)
    await referred_on(store, clock, marac_id, date(2026, 12, 16), "RIV-V-0301")

    for before in (london(date(2026, 12, 30), 10), london(date(2027, 1, 5), 17),
                   london(date(2027, 1, 6), 9, 29)):
        await tick(store, clock, before)
        assert await sent(store, "triage target") == [], before
    await tick(store, clock, london(date(2027, 1, 6), 9, 31))
    [(to, message)] = await sent(store, "triage target")
    assert to == "Cara"
    assert ("Referral RIV-V-0301 (Jess, received 16 December) is still waiting in triage and "
            "can no longer be heard within 14 working days of receipt (by Friday 08 January)."
            ) in message
    await tick(store, clock, london(date(2027, 1, 7), 10))
    assert len(await sent(store, "triage target")) == 1  # once


async def test_a_window_without_a_meeting_day_is_flagged_on_receipt(store, clock):
    """With a two-day window (7 to 8 working days) the Christmas bank holidays leave a referral
    received on Friday 18 December no Wednesday to be heard on in time: the coordinator is
    told the first time the timer looks."""
    marac_id = await seeded(store, clock)
    async with store.unit_of_work() as session:
        marac = await session.get_one(Marac, marac_id)
        marac.latest_working_days = marac.target_working_days = 8  # a window of two days
        marac.earliest_working_days = 7
    async with store.unit_of_work() as session:
        marac = await session.get_one(Marac, marac_id)
        received = date(2026, 12, 16)  # 7th and 8th working days: 29 and 30 December
        assert certain_at(marac, received) == london(date(2026, 12, 30), 9, 30)
        received = date(2026, 12, 17)  # 7th and 8th: 30 and 31 December
        assert certain_at(marac, received) == london(date(2026, 12, 30), 9, 30)
        received = date(2026, 12, 18)  # 7th and 8th: 31 December and 4 January
        assert certain_at(marac, received) == london(received, 0)
    await referred_on(store, clock, marac_id, date(2026, 12, 18), "RIV-V-0302")
    await tick(store, clock, london(date(2026, 12, 18), 16))
    assert [to for to, _ in await sent(store, "triage target")] == ["Cara"]


async def test_a_case_deferred_past_its_target_is_flagged_and_one_within_it_is_not(
        store, clock):
    marac_id = await seeded(store, clock)
    late = await referred_on(store, clock, marac_id, date(2026, 12, 2), "RIV-V-0401")
    early = await referred_on(store, clock, marac_id, date(2026, 11, 30), "RIV-V-0402")
    clock.set(london(date(2026, 12, 2), 16))
    for referral in (late, early):
        await accept(store, clock, marac_id, referral.id)
    await tick(store, clock, london(date(2026, 12, 3), 10))
    assert await sent(store, "triage target") == []  # accepted: no longer waiting

    async with store.unit_of_work() as session:  # each deferred from its meeting
        marac = await session.get_one(Marac, marac_id)
        for referral in (late, early):
            case = await session.scalar(select(Case).where(Case.referral_id == referral.id))
            meeting = await session.get_one(Meeting, case.meeting_id)
            case.deferred_from_meeting_id = meeting.id
            await move_to_next_meeting(session, marac, case, meeting)
    await tick(store, clock, london(date(2026, 12, 16), 11))
    [(to, message)] = await sent(store, "triage target")
    assert to == "Cara"
    assert ("(referral RIV-V-0401, Jess, received 02 December) was deferred past Tuesday 22 "
            "December: it can no longer be heard within 14 working days of receipt.") in message
    await tick(store, clock, london(date(2026, 12, 17), 11))
    assert len(await sent(store, "triage target")) == 1


async def test_the_triage_members_receive_the_queue_on_the_triage_weekday_once(store, clock):
    marac_id = await seeded(store, clock)
    await tick(store, clock, london(date(2026, 12, 3), 10))  # Thursday: nothing waiting
    assert await sent(store, "triage queue") == []
    await referred_on(store, clock, marac_id, date(2026, 12, 7), "RIV-V-0501")

    await tick(store, clock, london(date(2026, 12, 9), 10))  # Wednesday
    await tick(store, clock, london(date(2026, 12, 10), 8, 59))  # Thursday, before 09:00
    assert await sent(store, "triage queue") == []
    await tick(store, clock, london(date(2026, 12, 10), 9))
    queue = await sent(store, "triage queue")
    assert sorted(to for to, _ in queue) == ["Imogen", "Priya"]  # the triage members
    assert all("This week's triage queue." in m and "RIV-V-0501" in m for _, m in queue)
    await tick(store, clock, london(date(2026, 12, 10), 15))
    assert len(await sent(store, "triage queue")) == 2  # once that day
    await tick(store, clock, london(date(2026, 12, 17), 9, 5))  # the next Thursday: again
    assert len(await sent(store, "triage queue")) == 4


async def test_another_marac_s_triage_weekday_is_its_own(store, clock):
    marac_id = await seeded(store, clock)
    async with store.unit_of_work() as session:
        (await session.get_one(Marac, marac_id)).triage_weekday = 0  # Monday
    await referred_on(store, clock, marac_id, date(2026, 12, 7), "RIV-V-0601")
    await tick(store, clock, london(date(2026, 12, 10), 10))  # Thursday
    assert await sent(store, "triage queue") == []
    await tick(store, clock, london(date(2026, 12, 14), 9, 30))  # Monday
    assert len(await sent(store, "triage queue")) == 2
