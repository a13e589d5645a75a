"""Running the meeting (../shared/MARAC.md, "At the meeting"): the chair starts it, moves
through the agenda case by case within each slot, pauses, extends, goes back, defers and marks
exceptional cases; the slot warnings are claimed once; the summary matches what was done."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from dialogs import meeting as run
from dialogs.case_work import add_action
from dialogs.meeting import MeetingError
from dialogs.meeting_record import claim_slot_warnings, summarise
from dialogs.working_days import WorkingCalendar
from storage.models import (
    Attendance,
    AttendanceRole,
    Case,
    CaseStatus,
    Marac,
    Meeting,
    MeetingStatus,
    PlannedAction,
)
from tests.store.meeting_factory import (
    CHANNEL,
    add_case,
    attend,
    case_named,
    defer,
    end,
    exceptional,
    extend,
    go_back,
    later,
    meeting_of,
    next_case,
    pause,
    resume,
    seed,
    slot,
    started,
)
from tests.store.referral_factory import is_one_sentence

LONDON = ZoneInfo("Europe/London")
OTHER_CHAT = "19:meeting_other@thread.v2"


def refused(sentence: str):
    return pytest.raises(MeetingError, match=f"^{re.escape(sentence)}$")


async def claim(store, clock) -> list[tuple[str, bool, int]]:
    """What the timer would warn about now: (case number, slot over, seconds remaining)."""
    async with store.unit_of_work() as session:
        return [(w.case.number, w.over, w.remaining)
                for w in await claim_slot_warnings(session, clock.now())]


async def action(store, clock, demo, number: str, agency: str, key: str) -> None:
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        await add_action(session, case, {
            "agency": agency, "owner": "Priya", "description": f"Follow up ({key}).",
            "for_whom": "victim", "risk": "Threats to kill.",
            "due_on": (clock.now().date() + timedelta(days=7)).isoformat()},
            demo.agencies, demo.people["Priya"], clock.now().date(), key)


# --- start ---------------------------------------------------------------------------------

async def test_start_opens_the_next_scheduled_meeting_in_the_conversation(store, clock):
    demo = await seed(store, clock)
    now = later(clock, 60)
    async with store.unit_of_work() as session:
        meeting, new = await run.start(session, demo.marac_id, CHANNEL, demo.chair, now)
    assert new and meeting.id == demo.meeting_id
    stored = await meeting_of(store, demo.meeting_id)
    assert stored.status is MeetingStatus.RUNNING
    assert stored.started_at == now
    assert stored.conversation_id == CHANNEL
    assert stored.chair_person_id == demo.chair


async def test_a_second_start_in_the_same_conversation_changes_nothing(store, clock):
    demo = await started(store, clock)
    before = await meeting_of(store, demo.meeting_id)
    later(clock, 300)
    async with store.unit_of_work() as session:
        meeting, new = await run.start(session, demo.marac_id, CHANNEL, demo.people["Cara"],
                                       clock.now())
    assert not new and meeting.id == demo.meeting_id
    after = await meeting_of(store, demo.meeting_id)
    assert (after.status, after.started_at, after.chair_person_id, after.conversation_id) == (
        before.status, before.started_at, before.chair_person_id, before.conversation_id)


async def test_a_start_while_paused_finds_the_meeting_already_under_way(store, clock):
    demo = await started(store, clock)
    await pause(store, clock)
    async with store.unit_of_work() as session:
        meeting, new = await run.start(session, demo.marac_id, CHANNEL, demo.chair,
                                       later(clock, 30))
    assert not new and meeting.status is MeetingStatus.PAUSED


async def test_with_no_meeting_scheduled_start_is_refused_in_one_sentence(store, clock):
    demo = await seed(store, clock)
    clock.set(demo.starts_at + timedelta(hours=13))  # the meeting day is long past
    with refused("There is no meeting scheduled to start.") as raised:
        async with store.unit_of_work() as session:
            await run.start(session, demo.marac_id, CHANNEL, demo.chair, clock.now())
    assert is_one_sentence(str(raised.value))
    stored = await meeting_of(store, demo.meeting_id)
    assert stored.status is MeetingStatus.SCHEDULED and stored.conversation_id is None


async def test_start_elsewhere_while_the_meeting_runs_does_not_open_next_weeks(store, clock):
    demo = await started(store, clock)
    await next_case(store, clock)
    _, next_week = await defer(store, clock, "police research not back")
    with pytest.raises(MeetingError):
        async with store.unit_of_work() as session:
            await run.start(session, demo.marac_id, OTHER_CHAT, demo.chair, clock.now())
    assert (await meeting_of(store, next_week.id)).status is MeetingStatus.SCHEDULED


async def test_commands_outside_a_running_meeting_say_how_to_start_one(store, clock):
    await seed(store, clock)
    with refused("No meeting is running here; the chair starts one with **start**."):
        await next_case(store, clock)


# --- next ----------------------------------------------------------------------------------

async def test_next_opens_each_case_and_closes_the_last_with_those_present(store, clock):
    demo = await started(store, clock)
    await attend(store, clock, demo, "Chris", AttendanceRole.CHAIR)
    later(clock, 1)
    await attend(store, clock, demo, "Priya", AttendanceRole.AGENCY_REPRESENTATIVE, "Police")
    later(clock, 1)
    await attend(store, clock, demo, "Owen", AttendanceRole.OBSERVER)
    later(clock, 1)
    await attend(store, clock, demo, "Imogen", AttendanceRole.AGENCY_REPRESENTATIVE,
                 "IDVA Service")
    first, second = demo.numbers[:2]

    opened_at = later(clock, 10)
    assert await next_case(store, clock) == (None, first)
    case = await case_named(store, first)
    assert (case.status, case.opened_at) == (CaseStatus.OPEN, opened_at)

    closed_at = later(clock, 600)
    assert await next_case(store, clock) == (first, second)
    case = await case_named(store, first)
    assert (case.status, case.closed_at) == (CaseStatus.CLOSED, closed_at)
    # Everyone present but the observer shares the plan, by first name (002).
    assert case.responsible == ["Chris (chair)", "Priya (Police)", "Imogen (IDVA Service)"]
    opened = await case_named(store, second)
    assert (opened.status, opened.opened_at) == (CaseStatus.OPEN, closed_at)
    untouched = await case_named(store, demo.numbers[2])
    assert (untouched.status, untouched.opened_at) == (CaseStatus.LISTED, None)


async def test_closed_panel_cases_are_heard_after_the_open_part(store, clock):
    demo = await seed(store, clock)
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.number == demo.numbers[1]))
        assert case is not None
        case.closed_panel = True  # honour-based violence (002)
    async with store.unit_of_work() as session:
        await run.start(session, demo.marac_id, CHANNEL, demo.chair, clock.now())
    one, two, three, four = demo.numbers
    order = []
    for _ in range(4):
        later(clock, 60)
        order.append((await next_case(store, clock))[1])
    assert order == [one, three, four, two]


async def test_after_the_last_case_next_closes_it_and_then_there_is_nothing_left(
        store, clock):
    demo = await started(store, clock)
    for _ in demo.numbers:
        later(clock, 60)
        await next_case(store, clock)
    later(clock, 60)
    assert await next_case(store, clock) == (demo.numbers[-1], None)
    assert {(await case_named(store, n)).status for n in demo.numbers} == {CaseStatus.CLOSED}
    with refused("Every case on the agenda has been heard; the chair can **end** the "
                 "meeting."):
        await next_case(store, clock)


async def test_a_paused_meeting_refuses_next_and_back_until_resumed(store, clock):
    demo = await started(store, clock)
    await next_case(store, clock)
    later(clock, 60)
    await next_case(store, clock)
    await pause(store, clock)
    assert (await meeting_of(store, demo.meeting_id)).status is MeetingStatus.PAUSED
    with refused("The meeting is paused; **resume** it first."):
        await next_case(store, clock)
    with refused("The meeting is paused; **resume** it first."):
        await go_back(store, clock)
    assert (await case_named(store, demo.numbers[1])).status is CaseStatus.OPEN
    await resume(store, clock)
    assert await next_case(store, clock) == (demo.numbers[1], demo.numbers[2])


# --- the slot clock ------------------------------------------------------------------------

async def test_the_slot_runs_down_with_the_clock_and_then_overruns(store, clock):
    demo = await started(store, clock)  # 20-minute slots
    first = demo.numbers[0]
    assert await slot(store, clock, first) == run.Slot(1200, 1200)  # not opened yet
    await next_case(store, clock)
    later(clock, 90)
    assert (await slot(store, clock, first)).remaining == 1110
    later(clock, 1110 + 75)
    now_slot = await slot(store, clock, first)
    assert (now_slot.remaining, now_slot.overrun) == (-75, 75)


async def test_a_pause_stops_the_slot_clock(store, clock):
    demo = await started(store, clock)
    first = demo.numbers[0]
    await next_case(store, clock)
    later(clock, 100)
    await pause(store, clock)
    later(clock, 600)  # ten minutes' break
    assert (await slot(store, clock, first)).remaining == 1100  # stood still while paused
    await resume(store, clock)
    assert (await slot(store, clock, first)).remaining == 1100
    later(clock, 50)
    assert (await slot(store, clock, first)).remaining == 1050
    # Pausing twice, or resuming a running meeting, changes nothing.
    await pause(store, clock)
    later(clock, 30)
    await pause(store, clock)
    later(clock, 30)
    await resume(store, clock)
    await resume(store, clock)
    assert (await slot(store, clock, first)).remaining == 1050


async def test_extend_adds_minutes_to_the_open_case(store, clock):
    demo = await started(store, clock)
    first = demo.numbers[0]
    await next_case(store, clock)
    later(clock, 1300)  # 100 s over
    case = await extend(store, clock, 5)
    assert case.number == first and case.extra_seconds == 300
    after = await slot(store, clock, first)
    assert (after.length, after.remaining) == (1500, 200)


@pytest.mark.parametrize("minutes", [0, 61, -5])
async def test_extend_outside_one_to_sixty_minutes_is_refused(store, clock, minutes):
    demo = await started(store, clock)
    await next_case(store, clock)
    with refused("Extend by a whole number of minutes from 1 to 60, e.g. **extend 5**."):
        await extend(store, clock, minutes)
    assert (await case_named(store, demo.numbers[0])).extra_seconds == 0


async def test_extend_with_no_case_open_is_refused(store, clock):
    await started(store, clock)
    with refused("No case is open; the chair opens the next with **next**."):
        await extend(store, clock, 5)


# --- back ----------------------------------------------------------------------------------

async def test_back_reopens_the_case_just_closed_and_relists_the_open_one(store, clock):
    demo = await started(store, clock)
    one, two, three = demo.numbers[:3]
    await next_case(store, clock)
    later(clock, 400)
    await next_case(store, clock)  # one closed with 800 s left
    later(clock, 300)
    await next_case(store, clock)  # two closed with 900 s left, three open
    later(clock, 120)
    assert await go_back(store, clock) == two
    reopened, relisted = await case_named(store, two), await case_named(store, three)
    assert (reopened.status, reopened.closed_at, reopened.responsible) == (
        CaseStatus.OPEN, None, [])
    assert (relisted.status, relisted.opened_at) == (CaseStatus.LISTED, None)
    assert (await case_named(store, one)).status is CaseStatus.CLOSED
    # The slot carries on where it stopped: the time in between does not count against it.
    assert (await slot(store, clock, two)).remaining == 900
    later(clock, 60)
    assert await next_case(store, clock) == (two, three)
    assert (await slot(store, clock, three)).remaining == 1200
    # And back again: `back` with nothing open reopens the last closed.
    assert await go_back(store, clock) == two


async def test_back_before_any_case_is_closed_is_refused(store, clock):
    await started(store, clock)
    await next_case(store, clock)
    with refused("No case has been closed yet, so there is nothing to go back to."):
        await go_back(store, clock)


# --- defer ---------------------------------------------------------------------------------

async def test_defer_needs_a_reason(store, clock):
    demo = await started(store, clock)
    await next_case(store, clock)
    with refused("Give a reason to defer, e.g. **defer police research not back**."):
        await defer(store, clock, "   ")
    case = await case_named(store, demo.numbers[0])
    assert (case.meeting_id, case.status) == (demo.meeting_id, CaseStatus.OPEN)


async def test_defer_with_no_case_open_is_refused(store, clock):
    await started(store, clock)
    with refused("No case is open; the chair opens the next with **next**."):
        await defer(store, clock, "police research not back")


async def test_defer_lists_the_case_at_the_next_meeting_and_the_summary_says_so(
        store, clock):
    demo = await started(store, clock)
    one, two, three = demo.numbers[:3]
    await next_case(store, clock)
    later(clock, 200)
    await next_case(store, clock)  # two is open
    later(clock, 100)
    case, next_meeting = await defer(store, clock, "  police research not back ")
    assert case.number == two
    # The next Wednesday, a working day, at the MARAC's usual time.
    week_on = demo.starts_at.astimezone(LONDON) + timedelta(days=7)
    assert next_meeting.starts_at.astimezone(LONDON) == week_on
    assert next_meeting.status is MeetingStatus.SCHEDULED
    moved = await case_named(store, two)
    assert moved.meeting_id == next_meeting.id != demo.meeting_id
    assert moved.status is CaseStatus.LISTED
    assert (moved.opened_at, moved.closed_at) == (None, None)
    assert moved.deferred_from_meeting_id == demo.meeting_id
    assert moved.deferred_reason == "police research not back"
    # Nothing is open now; `next` goes on with the rest of today's agenda.
    assert await next_case(store, clock) == (None, three)
    await end(store, clock)
    async with store.unit_of_work() as session:
        marac = await session.get_one(Marac, demo.marac_id)
        meeting = await session.get_one(Meeting, demo.meeting_id)
        summary = await summarise(session, marac, meeting, clock.now())
    assert summary.deferred == (two,)
    assert two not in summary.heard + summary.not_reached


async def test_a_deferred_case_goes_after_the_cases_already_listed_next_time(store, clock):
    demo = await started(store, clock)
    await next_case(store, clock)
    case, first_deferral = await defer(store, clock, "health records awaited")
    later(clock, 10)
    await next_case(store, clock)
    second, again = await defer(store, clock, "children's records awaited")
    assert again.id == first_deferral.id
    assert [(await case_named(store, n)).slot for n in demo.numbers[:2]] == [1, 2]
    async with store.unit_of_work() as session:
        listed = (await session.scalars(select(Case.number).where(
            Case.meeting_id == again.id).order_by(Case.slot))).all()
    assert listed == [case.number, second.number]


async def test_defer_skips_a_meeting_day_that_is_a_bank_holiday(store, clock):
    # Wednesday 18 December 2024: the next two Wednesdays are Christmas Day and New Year's Day.
    clock.set(datetime(2024, 12, 16, 12, 0, tzinfo=UTC))
    demo = await started(store, clock)
    assert demo.starts_at.astimezone(LONDON).date() == date(2024, 12, 18)
    await next_case(store, clock)
    _, later_meeting = await defer(store, clock, "police research not back")
    day = later_meeting.starts_at.astimezone(LONDON).date()
    assert day == date(2025, 1, 8)
    assert WorkingCalendar().is_working_day(day)


# --- exceptional ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["died", "Death", "transfer", ""])
async def test_exceptional_is_only_death_or_moved(store, clock, kind):
    demo = await started(store, clock)
    await next_case(store, clock)
    with refused("Say **exceptional death** or **exceptional moved**, then what is known."):
        await exceptional(store, clock, kind, "as reported")
    assert (await case_named(store, demo.numbers[0])).exceptional == ""


@pytest.mark.parametrize("kind", ["death", "moved"])
async def test_an_exceptional_case_records_but_plans_no_actions(store, clock, kind):
    demo = await started(store, clock)
    await next_case(store, clock)
    case = await exceptional(store, clock, kind, "  confirmed by police this morning ")
    assert (case.exceptional, case.exceptional_note) == (kind, "confirmed by police this "
                                                               "morning")
    with refused("No action planning takes place for an exceptional case."):
        await action(store, clock, demo, demo.numbers[0], "Police", "card-1")
    async with store.unit_of_work() as session:
        assert await session.scalar(select(func.count()).select_from(PlannedAction)) == 0


# --- attendance ----------------------------------------------------------------------------

async def test_confirming_attendance_twice_updates_the_one_row(store, clock):
    demo = await started(store, clock)
    first = await attend(store, clock, demo, "Priya", AttendanceRole.OBSERVER)
    later(clock, 30)
    await attend(store, clock, demo, "Imogen", AttendanceRole.AGENCY_REPRESENTATIVE,
                 "IDVA Service")
    later(clock, 30)
    again = await attend(store, clock, demo, "Priya", AttendanceRole.AGENCY_REPRESENTATIVE,
                         "Police")
    assert again.id == first.id
    async with store.unit_of_work() as session:
        assert await session.scalar(select(func.count()).select_from(Attendance)) == 2
        meeting = await session.get_one(Meeting, demo.meeting_id)
        present = [(p.first_name, a.role, g.name if g else None)
                   for a, p, g in await run.present(session, meeting)]
        responsible = await run.responsible_names(session, meeting)
    assert present == [("Priya", AttendanceRole.AGENCY_REPRESENTATIVE, "Police"),
                       ("Imogen", AttendanceRole.AGENCY_REPRESENTATIVE, "IDVA Service")]
    assert responsible == ["Priya (Police)", "Imogen (IDVA Service)"]


async def test_an_observer_is_present_but_not_responsible_for_the_plan(store, clock):
    demo = await started(store, clock)
    await attend(store, clock, demo, "Owen", AttendanceRole.OBSERVER)
    async with store.unit_of_work() as session:
        meeting = await session.get_one(Meeting, demo.meeting_id)
        assert [p.first_name for _, p, _ in await run.present(session, meeting)] == ["Owen"]
        assert await run.responsible_names(session, meeting) == []


# --- slot warnings -------------------------------------------------------------------------

async def test_slot_warnings_come_once_each_at_the_warning_point_and_the_end(store, clock):
    demo = await started(store, clock, slot_seconds=60, warning_seconds=20)
    first = demo.numbers[0]
    await next_case(store, clock)
    opened = clock.now()
    clock.set(opened + timedelta(seconds=39))
    assert await claim(store, clock) == []
    clock.set(opened + timedelta(seconds=41))
    assert await claim(store, clock) == [(first, False, 19)]
    assert await claim(store, clock) == []  # claimed once
    clock.set(opened + timedelta(seconds=50))
    assert await claim(store, clock) == []
    clock.set(opened + timedelta(seconds=61))
    assert await claim(store, clock) == [(first, True, -1)]
    assert await claim(store, clock) == []
    clock.set(opened + timedelta(seconds=600))
    assert await claim(store, clock) == []


async def test_a_slot_overrun_found_late_gives_one_warning_that_it_is_over(store, clock):
    demo = await started(store, clock, slot_seconds=60, warning_seconds=20)
    await next_case(store, clock)
    later(clock, 90)
    assert await claim(store, clock) == [(demo.numbers[0], True, -30)]
    assert await claim(store, clock) == []


async def test_a_paused_meeting_gets_no_slot_warnings(store, clock):
    demo = await started(store, clock, slot_seconds=60, warning_seconds=20)
    await next_case(store, clock)
    later(clock, 30)
    await pause(store, clock)
    later(clock, 600)
    assert await claim(store, clock) == []
    await resume(store, clock)
    later(clock, 5)  # 35 s used of 60
    assert await claim(store, clock) == []
    later(clock, 6)  # 41 s used
    assert await claim(store, clock) == [(demo.numbers[0], False, 19)]


async def test_a_new_case_gets_its_own_warnings(store, clock):
    demo = await started(store, clock, slot_seconds=60, warning_seconds=20)
    await next_case(store, clock)
    later(clock, 61)
    assert [w[:2] for w in await claim(store, clock)] == [(demo.numbers[0], True)]
    await next_case(store, clock)
    later(clock, 41)
    assert await claim(store, clock) == [(demo.numbers[1], False, 19)]


async def test_extend_clears_the_warnings_once_the_end_is_no_longer_near(store, clock):
    demo = await started(store, clock, slot_seconds=60, warning_seconds=20)
    first = demo.numbers[0]
    await next_case(store, clock)
    opened = clock.now()
    clock.set(opened + timedelta(seconds=61))
    assert [w[:2] for w in await claim(store, clock)] == [(first, True)]
    await extend(store, clock, 1)  # 59 s left: neither near the end nor over
    case = await case_named(store, first)
    assert (case.warned_at, case.overrun_at) == (None, None)
    clock.set(opened + timedelta(seconds=101))
    assert await claim(store, clock) == [(first, False, 19)]
    clock.set(opened + timedelta(seconds=121))
    assert await claim(store, clock) == [(first, True, -1)]


async def test_extend_still_near_the_end_keeps_the_warning_already_given(store, clock):
    demo = await started(store, clock, slot_seconds=300, warning_seconds=240)
    first = demo.numbers[0]
    await next_case(store, clock)
    later(clock, 200)  # 100 s left
    assert await claim(store, clock) == [(first, False, 100)]
    await extend(store, clock, 1)  # 160 s left: still near the end, not warned again
    assert (await case_named(store, first)).warned_at is not None
    later(clock, 10)
    assert await claim(store, clock) == []
    await extend(store, clock, 2)  # 270 s left: no longer near the end
    assert (await case_named(store, first)).warned_at is None
    assert await claim(store, clock) == []
    later(clock, 31)  # 239 s left
    assert await claim(store, clock) == [(first, False, 239)]


# --- the summary ---------------------------------------------------------------------------

async def test_the_summary_matches_what_was_done(store, clock):
    demo = await started(store, clock, slot_seconds=60, warning_seconds=20)
    await add_case(store, demo, "RIV-2026-005", "Ella")
    one, two, three, four, five = (*demo.numbers, "RIV-2026-005")
    await next_case(store, clock)  # one
    await action(store, clock, demo, one, "Police", "a1")
    await action(store, clock, demo, one, "Police", "a2")
    await action(store, clock, demo, one, "Housing", "a3")
    await action(store, clock, demo, one, "Housing", "a3")  # the same press twice
    later(clock, 50)
    await next_case(store, clock)  # one heard in 50 s; two open
    await defer(store, clock, "police research not back")  # at once: no time used
    await next_case(store, clock)  # three
    await exceptional(store, clock, "death", "the victim died on Sunday")
    later(clock, 30)
    await next_case(store, clock)  # three closed after 30 s; four open
    await action(store, clock, demo, four, "Probation", "a4")
    later(clock, 80)  # 20 s over
    await end(store, clock)
    async with store.unit_of_work() as session:
        marac = await session.get_one(Marac, demo.marac_id)
        meeting = await session.get_one(Meeting, demo.meeting_id)
        summary = await summarise(session, marac, meeting, clock.now())
    assert summary.heard == (one, four)
    assert summary.deferred == (two,)
    assert summary.exceptional == (three,)
    assert summary.not_reached == (five,)
    assert summary.used_seconds == 50 + 30 + 80
    assert summary.planned_seconds == 60 * 4  # the slots of the cases heard or deferred
    assert summary.actions_per_agency == (("Housing", 1), ("Police", 2), ("Probation", 1))
    ended = await meeting_of(store, demo.meeting_id)
    assert (ended.status, ended.ended_at) == (MeetingStatus.ENDED, clock.now())
    assert (await case_named(store, four)).status is CaseStatus.CLOSED
    with refused("No meeting is running here; the chair starts one with **start**."):
        await next_case(store, clock)


async def test_ending_a_paused_meeting_stops_the_last_slot_at_the_pause(store, clock):
    demo = await started(store, clock, slot_seconds=60, warning_seconds=20)
    await next_case(store, clock)
    later(clock, 40)
    await pause(store, clock)
    later(clock, 900)
    await end(store, clock)
    async with store.unit_of_work() as session:
        marac = await session.get_one(Marac, demo.marac_id)
        meeting = await session.get_one(Meeting, demo.meeting_id)
        summary = await summarise(session, marac, meeting, clock.now())
    assert summary.heard == (demo.numbers[0],)
    assert summary.used_seconds == 40
    assert summary.not_reached == demo.numbers[1:]


async def test_time_spent_on_a_case_before_deferring_it_counts_as_used(store, clock):
    demo = await started(store, clock, slot_seconds=60, warning_seconds=20)
    await next_case(store, clock)
    later(clock, 40)
    await next_case(store, clock)  # one heard in 40 s
    later(clock, 45)
    await defer(store, clock, "police research not back")  # after 45 s of discussion
    await end(store, clock)
    async with store.unit_of_work() as session:
        marac = await session.get_one(Marac, demo.marac_id)
        meeting = await session.get_one(Meeting, demo.meeting_id)
        summary = await summarise(session, marac, meeting, clock.now())
    assert summary.planned_seconds == 120
    assert summary.used_seconds == 40 + 45


async def test_next_refuses_to_close_a_plan_with_nobody_named_to_update_the_victim(store, clock):
    await started(store, clock)
    await next_case(store, clock)
    with pytest.raises(MeetingError, match="Name who will update the victim before closing"):
        await next_case(store, clock, victim_contact=None)


async def test_end_refuses_to_close_a_plan_with_nobody_named_to_update_the_victim(store, clock):
    await started(store, clock)
    await next_case(store, clock)
    with pytest.raises(MeetingError, match="Name who will update the victim before closing"):
        await end(store, clock, victim_contact=None)
