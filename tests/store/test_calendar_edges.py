"""The calendar's edges, on SQLite and PostgreSQL, with the clock set to each day of one
ordinary week and to the days around Christmas 2026 and Easter 2027: where the demo meeting
falls, when its case list goes out (4 working days before) and its reminders (1 working day
before), each exactly once and not a second early; and the 36- and 48-hour alerts after the
meeting. The expected days are written out by hand from gov.uk's bank holidays (25 and 28
December 2026, 1 January 2027, 26 and 29 March 2027), not computed by the code under test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from dialogs.circulation import (
    case_list_due_at,
    claim_due_case_lists,
    claim_due_reminders,
    reminders_due_at,
)
from dialogs.clock import FixedClock
from dialogs.demo import seed_demo
from storage.models import Marac, Meeting
from tests.store.test_plans_clock import (
    test_undelivered_plans_alert_the_coordinator_at_36_hours_and_the_manager_at_48 as alerts_run,
)

LONDON = ZoneInfo("Europe/London")
SECOND = timedelta(seconds=1)

# seeded on: (the demo meeting, the case list's day, the reminders' day)
EDGES = {
    date(2026, 11, 30): (date(2026, 12, 2), date(2026, 11, 26), date(2026, 12, 1)),
    date(2026, 12, 1): (date(2026, 12, 9), date(2026, 12, 3), date(2026, 12, 8)),
    date(2026, 12, 2): (date(2026, 12, 9), date(2026, 12, 3), date(2026, 12, 8)),
    date(2026, 12, 3): (date(2026, 12, 9), date(2026, 12, 3), date(2026, 12, 8)),
    date(2026, 12, 4): (date(2026, 12, 9), date(2026, 12, 3), date(2026, 12, 8)),
    date(2026, 12, 5): (date(2026, 12, 9), date(2026, 12, 3), date(2026, 12, 8)),
    date(2026, 12, 6): (date(2026, 12, 9), date(2026, 12, 3), date(2026, 12, 8)),
    # Christmas: the meeting of the 30th counts back over Boxing Day and Christmas Day.
    date(2026, 12, 21): (date(2026, 12, 23), date(2026, 12, 17), date(2026, 12, 22)),
    date(2026, 12, 22): (date(2026, 12, 30), date(2026, 12, 22), date(2026, 12, 29)),
    date(2026, 12, 28): (date(2026, 12, 30), date(2026, 12, 22), date(2026, 12, 29)),
    date(2026, 12, 31): (date(2027, 1, 6), date(2026, 12, 30), date(2027, 1, 5)),
    # Easter 2027: the meeting of the 31st counts back over Easter Monday and Good Friday.
    date(2027, 3, 22): (date(2027, 3, 24), date(2027, 3, 18), date(2027, 3, 23)),
    date(2027, 3, 25): (date(2027, 3, 31), date(2027, 3, 23), date(2027, 3, 30)),
    date(2027, 3, 30): (date(2027, 4, 7), date(2027, 4, 1), date(2027, 4, 6)),
}


def morning(day: date) -> datetime:
    return datetime.combine(day, time(8, 0), tzinfo=LONDON).astimezone(UTC)


async def demo_meeting(store, day: date) -> tuple[Marac, Meeting]:
    async with store.unit_of_work() as session:
        assert await seed_demo(session, morning(day))
    async with store.unit_of_work() as session:
        marac, meeting = (await session.execute(select(Marac, Meeting).join(
            Meeting, Meeting.marac_id == Marac.id))).tuples().one()
        session.expunge_all()
        return marac, meeting


async def case_lists(store, at: datetime) -> int:
    async with store.unit_of_work() as session:
        return len(await claim_due_case_lists(session, at))


async def reminders(store, at: datetime) -> int:
    async with store.unit_of_work() as session:
        return len(await claim_due_reminders(session, at))


@pytest.mark.parametrize("seeded", list(EDGES), ids=str)
async def test_the_case_list_and_reminders_fall_on_working_days(store, seeded):
    meeting_day, case_list_day, reminder_day = EDGES[seeded]
    marac, meeting = await demo_meeting(store, seeded)
    assert meeting.starts_at.astimezone(LONDON).date() == meeting_day
    due = case_list_due_at(marac, meeting)
    assert due.astimezone(LONDON).date() == case_list_day
    assert reminders_due_at(marac, meeting).astimezone(LONDON).date() == reminder_day

    now = morning(seeded)
    if due > now:
        assert await case_lists(store, due - SECOND) == 0, "the case list went out early"
    assert await case_lists(store, max(due, now)) == 1
    assert await case_lists(store, max(due, now) + timedelta(days=1)) == 0, "sent twice"

    reminding = reminders_due_at(marac, meeting)
    assert await reminders(store, reminding - SECOND) == 0, "the reminders went out early"
    assert await reminders(store, reminding) > 0
    assert await reminders(store, reminding + timedelta(hours=1)) == 0, "sent twice"


@pytest.mark.parametrize("seeded", [date(2026, 12, 4), date(2026, 12, 22), date(2026, 12, 31)],
                         ids=str)
async def test_the_48_hours_after_the_meeting_run_over_weekends_and_holidays(
        store, database_url, seeded):
    await alerts_run(store, FixedClock(morning(seeded)), database_url)
