"""Working days: weekends and bank holidays (with substitute days) never count."""

from datetime import date, datetime, timedelta

import pytest

from dialogs.working_days import Nation, WorkingCalendar

ENGLAND = WorkingCalendar()
WALES = WorkingCalendar(Nation.WALES)
SCOTLAND = WorkingCalendar(Nation.SCOTLAND)


def _count_day_by_day(calendar: WorkingCalendar, start: date, end: date) -> int:
    days = (end - start).days
    return sum(calendar.is_working_day(start + timedelta(days=k)) for k in range(1, days + 1))


def test_england_is_the_default_and_shares_every_bank_holiday_with_wales():
    assert ENGLAND.nation is Nation.ENGLAND
    for year in range(2020, 2036):
        assert ENGLAND.bank_holidays(year) == WALES.bank_holidays(year), year


def test_weekends_are_not_working_days_and_ordinary_weekdays_are():
    assert ENGLAND.is_working_day(date(2026, 3, 11))  # a Wednesday
    assert not ENGLAND.is_working_day(date(2026, 3, 14))  # Saturday
    assert not ENGLAND.is_working_day(date(2026, 3, 15))  # Sunday


@pytest.mark.parametrize("day", [
    date(2026, 1, 1),    # New Year's Day, Thursday
    date(2026, 4, 3),    # Good Friday
    date(2026, 4, 6),    # Easter Monday
    date(2026, 5, 4),    # early May
    date(2026, 5, 25),   # spring (late May)
    date(2026, 8, 31),   # summer (last Monday of August)
    date(2026, 12, 25),  # Christmas Day, Friday
    date(2026, 12, 28),  # Boxing Day falls on Saturday: substitute Monday
    date(2027, 3, 26),   # Good Friday
    date(2027, 3, 29),   # Easter Monday
    date(2027, 12, 27),  # Christmas Day falls on Saturday: substitute Monday
    date(2027, 12, 28),  # Boxing Day falls on Sunday: substitute Tuesday
    date(2028, 1, 3),    # New Year's Day falls on Saturday: substitute Monday
    date(2020, 5, 8),    # early May moved to Friday for VE Day
    date(2022, 9, 19),   # a one-off: the Queen's state funeral
])
def test_bank_holidays_in_england_are_not_working_days(day: date):
    assert not ENGLAND.is_working_day(day)


def test_the_usual_days_around_moved_or_weekend_holidays_are_working_days():
    assert ENGLAND.is_working_day(date(2020, 5, 4))  # the Monday the 2020 holiday left
    assert ENGLAND.is_working_day(date(2027, 12, 29))
    assert ENGLAND.is_working_day(date(2026, 12, 29))
    assert ENGLAND.is_working_day(date(2026, 1, 2))  # 2 January is Scotland's only
    assert ENGLAND.is_working_day(date(2026, 8, 3))  # first Monday of August: Scotland's


def test_scotland_differs():
    assert not SCOTLAND.is_working_day(date(2026, 1, 2))  # 2 January
    assert not SCOTLAND.is_working_day(date(2027, 1, 4))  # 2 January 2027 is a Saturday
    assert not SCOTLAND.is_working_day(date(2026, 11, 30))  # St Andrew's Day
    assert not SCOTLAND.is_working_day(date(2026, 8, 3))  # first Monday of August
    assert SCOTLAND.is_working_day(date(2026, 8, 31))  # England's summer holiday
    assert SCOTLAND.is_working_day(date(2026, 4, 6))  # Easter Monday is not one
    assert not SCOTLAND.is_working_day(date(2026, 4, 3))  # Good Friday is


def test_add_counts_working_days_strictly_after_the_day():
    assert ENGLAND.add(date(2026, 3, 11), 1) == date(2026, 3, 12)
    assert ENGLAND.add(date(2026, 3, 13), 1) == date(2026, 3, 16)  # Friday → Monday
    assert ENGLAND.add(date(2026, 3, 14), 1) == date(2026, 3, 16)  # Saturday → Monday
    assert ENGLAND.add(date(2026, 4, 2), 1) == date(2026, 4, 7)  # over Easter
    assert ENGLAND.add(date(2026, 3, 11), 5) == date(2026, 3, 18)


def test_add_zero_is_the_day_itself_or_the_next_working_day():
    assert ENGLAND.add(date(2026, 3, 11), 0) == date(2026, 3, 11)
    assert ENGLAND.add(date(2026, 3, 14), 0) == date(2026, 3, 16)
    assert ENGLAND.add(date(2026, 4, 3), 0) == date(2026, 4, 7)


def test_before_counts_back_and_zero_is_the_day_or_the_previous_working_day():
    assert ENGLAND.before(date(2026, 3, 16), 1) == date(2026, 3, 13)
    assert ENGLAND.before(date(2026, 3, 15), 0) == date(2026, 3, 13)
    assert ENGLAND.before(date(2026, 3, 11), 0) == date(2026, 3, 11)


def test_month_ends_carry_over_and_an_august_bank_holiday_is_skipped():
    assert ENGLAND.add(date(2026, 1, 30), 1) == date(2026, 2, 2)
    assert ENGLAND.add(date(2028, 2, 28), 1) == date(2028, 2, 29)  # leap year
    assert ENGLAND.add(date(2026, 8, 28), 1) == date(2026, 9, 1)
    assert SCOTLAND.add(date(2026, 8, 28), 1) == date(2026, 8, 31)
    assert ENGLAND.before(date(2026, 4, 1), 1) == date(2026, 3, 31)
    assert ENGLAND.between(date(2026, 2, 27), date(2026, 3, 2)) == 1


def test_case_list_and_agency_deadlines_before_a_meeting_after_easter():
    meeting = date(2026, 4, 8)  # Wednesday after Easter
    assert ENGLAND.before(meeting, 4) == date(2026, 3, 31)
    assert ENGLAND.before(meeting, 1) == date(2026, 4, 7)


def test_case_list_and_agency_deadlines_around_christmas_2026():
    assert ENGLAND.before(date(2027, 1, 6), 4) == date(2026, 12, 30)
    assert ENGLAND.before(date(2027, 1, 6), 1) == date(2027, 1, 5)
    assert ENGLAND.before(date(2026, 12, 30), 4) == date(2026, 12, 22)
    assert ENGLAND.before(date(2026, 12, 29), 1) == date(2026, 12, 24)
    assert SCOTLAND.before(date(2027, 1, 6), 4) == date(2026, 12, 29)


def test_the_7_to_14_day_window_across_christmas_2026():
    received = date(2026, 12, 18)  # Friday
    assert ENGLAND.window(received) == (date(2026, 12, 31), date(2027, 1, 12))
    assert SCOTLAND.window(received) == (date(2026, 12, 31), date(2027, 1, 13))
    assert ENGLAND.between(received, date(2027, 1, 12)) == 14


def test_the_window_in_an_ordinary_fortnight_and_with_other_bounds():
    assert ENGLAND.window(date(2026, 3, 2)) == (date(2026, 3, 11), date(2026, 3, 20))
    assert ENGLAND.window(date(2026, 3, 2), 1, 2) == (date(2026, 3, 3), date(2026, 3, 4))
    with pytest.raises(ValueError):
        ENGLAND.window(date(2026, 3, 2), 14, 7)


def test_between_counts_after_start_up_to_and_including_end():
    assert ENGLAND.between(date(2026, 3, 11), date(2026, 3, 11)) == 0
    assert ENGLAND.between(date(2026, 3, 11), date(2026, 3, 12)) == 1
    assert ENGLAND.between(date(2026, 12, 24), date(2026, 12, 29)) == 1
    assert ENGLAND.between(date(2026, 12, 29), date(2026, 12, 24)) == -1
    assert ENGLAND.between(date(2025, 12, 31), date(2026, 12, 31)) == 253


@pytest.mark.parametrize("calendar", [ENGLAND, SCOTLAND], ids=["england", "scotland"])
def test_between_agrees_with_counting_day_by_day_and_inverts_add(calendar: WorkingCalendar):
    start = date(2025, 11, 20)
    for offset in range(0, 500, 7):
        end = start + timedelta(days=offset)
        count = calendar.between(start, end)
        assert count == _count_day_by_day(calendar, start, end), end
        if count and calendar.is_working_day(end):
            assert calendar.add(start, count) == end


def test_holidays_are_looked_up_once_per_year():
    assert ENGLAND.bank_holidays(2026) is WorkingCalendar().bank_holidays(2026)


def test_refuses_negative_counts_and_datetimes():
    with pytest.raises(ValueError):
        ENGLAND.add(date(2026, 3, 11), -1)
    with pytest.raises(ValueError):
        ENGLAND.before(date(2026, 3, 11), -1)
    with pytest.raises(TypeError):
        ENGLAND.is_working_day(datetime(2026, 3, 11, 9, 30))
