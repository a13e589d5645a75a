"""Scheduling an accepted referral: the first meeting 7 to 14 working days after receipt with a
free slot, its case number, its slot and its pre-populated plan, on SQLite and PostgreSQL."""

from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from dialogs.working_days import WorkingCalendar
from storage.models import ActionOrigin, Agency, Case, Marac, PlannedAction, Referral
from tests.store.referral_factory import (
    LONDON,
    accept,
    at,
    card_payload,
    london_day,
    next_case_number,
    other_marac,
    refer,
    reload,
    seeded,
    update_marac,
)

CALENDAR = WorkingCalendar()
WEDNESDAY = 2


def expected_meeting_day(received: date) -> date:
    """The first working Wednesday on or after the window opens, by the working calendar."""
    first, _ = CALENDAR.window(received, 7, 14)
    day = first + timedelta(days=(WEDNESDAY - first.weekday()) % 7)
    while not CALENDAR.is_working_day(day):
        day += timedelta(days=7)
    return day


async def listed(store, clock, marac_id, received: date, **fields):
    """Refer (received on `received`, with the clock that day) and accept: the placement."""
    clock.set(at(received))
    incident = (received - timedelta(days=1)).isoformat()
    referral = await refer(store, clock, marac_id, card_payload(
        received_on=received.isoformat(), incident_date=incident, **fields))
    placement = (await accept(store, clock, marac_id, referral.id)).placement
    assert placement is not None
    return placement


async def test_received_on_a_tuesday_is_heard_on_the_wednesday_in_its_window(store, clock):
    marac_id = await seeded(store, clock)
    number = await next_case_number(store, marac_id, 2026)
    placement = await listed(store, clock, marac_id, date(2026, 11, 24))
    assert placement.window == (date(2026, 12, 3), date(2026, 12, 14))
    starts = placement.meeting.starts_at.astimezone(LONDON)
    assert (starts.date(), starts.time()) == (date(2026, 12, 9), time(9, 30))
    assert placement.case.number == number
    assert placement.case.slot == 1 and not placement.breaches_target
    assert placement.case.victim_first_name == "Jess"


async def test_the_demo_numbers_its_cases_with_its_own_prefix_after_the_demo_cases(
        store, clock):
    marac_id = await seeded(store, clock)
    placement = await listed(store, clock, marac_id, date(2026, 11, 24))
    async with store.unit_of_work() as session:
        prefix = (await session.get_one(Marac, marac_id)).case_prefix
        demo_numbers = (await session.scalars(select(Case.number).where(
            Case.referral_id.is_(None)))).all()
    assert placement.case.number.startswith(f"{prefix}-2026-")
    assert placement.case.number not in demo_numbers
    assert placement.case.number == f"{prefix}-2026-{len(demo_numbers) + 1:03d}"


async def test_a_marac_without_a_prefix_numbers_its_first_case_marac_2026_001(store, clock):
    marac_id = await other_marac(store)
    placement = await listed(store, clock, marac_id, date(2026, 11, 24))
    assert placement.case.number == "MARAC-2026-001"
    assert london_day(placement.meeting.starts_at) == date(2026, 12, 9)


@pytest.mark.parametrize("received", [date(2026, 11, 24), date(2026, 11, 27),
                                      date(2026, 11, 28), date(2026, 12, 2),
                                      date(2027, 3, 26), date(2027, 5, 28)],
                         ids=str)
async def test_the_meeting_is_the_first_wednesday_inside_the_window(store, clock, received):
    marac_id = await seeded(store, clock)
    placement = await listed(store, clock, marac_id, received)
    starts = placement.meeting.starts_at.astimezone(LONDON)
    assert starts.date() == expected_meeting_day(received)
    assert starts.time() == time(9, 30)  # in British Summer Time too
    assert 7 <= CALENDAR.between(received, starts.date()) <= 14
    assert not placement.breaches_target


async def test_a_meeting_that_has_started_is_passed_over_for_the_next(store, clock):
    marac_id = await seeded(store, clock)
    referral = await refer(store, clock, marac_id, card_payload(
        received_on="2026-11-13", incident_date="2026-11-12"))
    assert CALENDAR.window(date(2026, 11, 13)) == (date(2026, 11, 24), date(2026, 12, 3))
    clock.set(at(date(2026, 11, 25), hour=10))  # Wednesday 25 November, 10:00 in London
    placement = (await accept(store, clock, marac_id, referral.id)).placement
    assert placement is not None
    assert london_day(placement.meeting.starts_at) == date(2026, 12, 2)
    assert placement.case.slot == 5  # after the demo's four cases at that meeting
    assert not placement.breaches_target


async def test_cases_fill_the_meeting_slots_in_order(store, clock):
    marac_id = await seeded(store, clock)
    placements = [await listed(store, clock, marac_id, date(2026, 11, 24),
                               victim_first_name=name, victim_reference=f"RIV-V-{n}")
                  for n, name in enumerate(("Jess", "Lena", "Maya"))]
    assert [p.case.slot for p in placements] == [1, 2, 3]
    numbers = [p.case.number for p in placements]
    prefix, year, first = numbers[0].rsplit("-", 2)[0], 2026, int(numbers[0][-3:])
    assert numbers == [f"{prefix}-{year}-{first + n:03d}" for n in range(3)]
    assert len({p.meeting.id for p in placements}) == 1


async def test_when_the_window_is_full_the_case_goes_later_and_breaches_the_target(
        store, clock):
    marac_id = await seeded(store, clock)
    await update_marac(store, marac_id, slots_per_meeting=1)
    first = await listed(store, clock, marac_id, date(2026, 11, 24))
    second = await listed(store, clock, marac_id, date(2026, 11, 24),
                          victim_first_name="Lena", victim_reference="RIV-V-0002")
    assert london_day(first.meeting.starts_at) == date(2026, 12, 9)
    assert not first.breaches_target
    assert london_day(second.meeting.starts_at) == date(2026, 12, 16)
    assert second.breaches_target and second.case.breaches_target


async def test_the_christmas_bank_holidays_push_the_window_into_january(store, clock):
    marac_id = await seeded(store, clock)
    number = await next_case_number(store, marac_id, 2027)
    placement = await listed(store, clock, marac_id, date(2026, 12, 18))
    # 25 and 28 December and 1 January are not working days.
    assert placement.window == (date(2026, 12, 31), date(2027, 1, 12))
    assert london_day(placement.meeting.starts_at) == date(2027, 1, 6)
    assert placement.case.number == number and number.endswith("-2027-001")
    assert not placement.breaches_target


async def test_a_wednesday_bank_holiday_is_skipped_for_the_next_wednesday(store, clock):
    marac_id = await seeded(store, clock)
    placement = await listed(store, clock, marac_id, date(2029, 12, 13))
    heard = london_day(placement.meeting.starts_at)
    assert date(2029, 12, 26) in CALENDAR.bank_holidays(2029)  # Boxing Day, a Wednesday
    assert heard == date(2030, 1, 2)
    assert not placement.breaches_target


async def test_christmas_and_new_year_on_wednesdays_are_both_skipped(store, clock):
    marac_id = await seeded(store, clock)
    placement = await listed(store, clock, marac_id, date(2030, 12, 13))
    heard = london_day(placement.meeting.starts_at)
    assert placement.window == (date(2030, 12, 24), date(2031, 1, 7))
    assert heard not in (date(2030, 12, 25), date(2031, 1, 1))
    assert heard == date(2031, 1, 8) and CALENDAR.is_working_day(heard)
    assert placement.breaches_target  # both Wednesdays in the window were bank holidays


async def test_honour_based_violence_is_heard_in_a_closed_panel(store, clock):
    marac_id = await seeded(store, clock)
    hbv = await listed(store, clock, marac_id, date(2026, 11, 24), honour_based_violence="true")
    other = await listed(store, clock, marac_id, date(2026, 11, 24), victim_first_name="Lena",
                         victim_reference="RIV-V-0002")
    assert hbv.case.closed_panel
    assert not other.case.closed_panel


async def planned(store, case_id):
    async with store.unit_of_work() as session:
        names = {a.id: a.name for a in (await session.scalars(select(Agency))).all()}
        actions = (await session.scalars(select(PlannedAction).where(
            PlannedAction.case_id == case_id).order_by(PlannedAction.id))).all()
    return [(names.get(a.owning_agency_id), a.for_whom, a.origin) for a in actions]


async def test_the_plan_starts_with_the_idva_and_police_actions(store, clock):
    marac_id = await seeded(store, clock)
    placement = await listed(store, clock, marac_id, date(2026, 11, 24))
    assert await planned(store, placement.case.id) == [
        ("IDVA Service", "victim", ActionOrigin.PREPOPULATED),
        ("Police", "victim", ActionOrigin.PREPOPULATED),
    ]


async def test_children_in_the_household_add_a_childrens_social_care_action(store, clock):
    marac_id = await seeded(store, clock)
    placement = await listed(store, clock, marac_id, date(2026, 11, 24),
                             children_in_household="2")
    assert ("Children's Social Care", "children", ActionOrigin.PREPOPULATED) in \
        await planned(store, placement.case.id)


async def test_a_repeat_victims_plan_embeds_the_earlier_plan(store, clock):
    marac_id = await seeded(store, clock)
    first = await listed(store, clock, marac_id, date(2026, 11, 24), children_in_household="1")
    again = await listed(store, clock, marac_id, date(2027, 6, 1), yes=4)
    repeat = await reload(store, Referral, again.case.referral_id)
    assert repeat.qualifying_reasons == ["repeat"]
    assert repeat.repeat_of_id == first.case.referral_id
    actions = await planned(store, again.case.id)
    earlier = [a for a in actions if a[2] is ActionOrigin.EARLIER_PLAN]
    assert [a[:2] for a in earlier] == [a[:2] for a in await planned(store, first.case.id)]
    assert len(earlier) == 3
    assert len(actions) == 2 + 3  # its own IDVA and police actions, then the earlier three
