"""The police feed: the CSV as the coordinator uploads it, cleansed into referrals. Incidents
already listed are linked, the same victim twice in a window is flagged, and every bad row
is reported by its line with nothing of it stored, on SQLite and PostgreSQL."""

import pytest
from sqlalchemy import select

from dialogs.police_feed import COLUMNS, MAX_BYTES, FeedError, import_rows, read_rows
from storage.models import Marac, Referral, ReferralSource, ReferralStatus
from tests.store.referral_factory import count, csv_bytes, is_one_sentence, police_row, seeded


def refused_in_one_sentence(content: bytes) -> str:
    with pytest.raises(FeedError) as error:
        read_rows(content)
    assert is_one_sentence(str(error.value))
    return str(error.value)


async def imported(store, clock, marac_id, rows):
    ticks: list[int] = []
    async with store.unit_of_work() as session:
        marac = await session.get_one(Marac, marac_id)
        report = await import_rows(session, marac, read_rows(csv_bytes(rows)), clock.now(),
                                   ticks.append)
    assert len(ticks) == report.rows == len(rows)
    return report


def lines(part) -> list[int]:
    return [line for line, _ in part]


async def stored_refs(store) -> list[str | None]:
    async with store.unit_of_work() as session:
        return sorted((await session.scalars(select(Referral.police_incident_ref))).all())


# read_rows: the file as a whole

def test_a_file_saved_with_a_byte_order_mark_is_read():
    rows = read_rows(csv_bytes([police_row(), police_row(police_incident_ref="INC-1002")],
                               bom=True))
    assert [line for line, _ in rows] == [2, 3]
    assert rows[0][1]["police_incident_ref"] == "INC-1001"
    assert rows[1][1]["police_incident_ref"] == "INC-1002"


def test_a_file_without_a_required_column_is_refused_naming_it():
    columns = tuple(c for c in COLUMNS if c != "victim_reference")
    sentence = refused_in_one_sentence(csv_bytes([police_row()], columns=columns))
    assert sentence.startswith("The file has no column 'victim_reference'; the first line "
                               "must name the columns: police_incident_ref, incident_date,")


def test_a_file_that_is_not_utf8_is_refused():
    content = csv_bytes([police_row(victim_first_name="Zoë")], encoding="latin-1")
    assert refused_in_one_sentence(content) == (
        "The file is not UTF-8 text; export it from the police system as CSV (UTF-8).")


def test_a_file_over_the_size_limit_is_refused():
    assert refused_in_one_sentence(b"x" * (MAX_BYTES + 1)) == "The file is larger than 5 MB."


def test_cells_are_trimmed_and_extra_cells_ignored():
    content = csv_bytes([police_row(victim_first_name="  Kira ")]) + b"extra,cells\r\n"
    rows = read_rows(content)
    assert rows[0][1]["victim_first_name"] == "Kira"
    assert None not in rows[1][1]


def test_a_row_with_a_line_break_in_a_cell_is_numbered_by_its_first_line():
    rows = read_rows(csv_bytes([police_row(escalation_detail="Threats by text.\nThen calls."),
                                police_row(police_incident_ref="INC-1002")]))
    assert [line for line, _ in rows] == [2, 4]
    assert rows[0][1]["escalation_detail"] == "Threats by text.\nThen calls."


# import_rows: each row

async def test_good_rows_become_pending_referrals_from_the_feed(store, clock):
    marac_id = await seeded(store, clock)
    report = await imported(store, clock, marac_id, [
        police_row(),
        police_row(police_incident_ref="INC-1002", victim_first_name="Lena",
                   victim_reference="RIV-V-2002", dash_yes_count="4"),
    ])
    assert lines(report.listed) == [2] and lines(report.declined) == [3]
    async with store.unit_of_work() as session:
        stored = (await session.scalars(select(Referral).order_by(Referral.id))).all()
    assert [r.police_incident_ref for r in stored] == ["INC-1001", "INC-1002"]
    assert [r.status for r in stored] == [ReferralStatus.PENDING, ReferralStatus.DECLINED]
    assert {r.source for r in stored} == {ReferralSource.POLICE_FEED}
    assert stored[1].risk_level == "standard"


async def test_an_incident_already_listed_is_linked_not_stored_twice(store, clock):
    marac_id = await seeded(store, clock)
    first = await imported(store, clock, marac_id, [police_row()])
    again = await imported(store, clock, marac_id, [police_row(), police_row()])
    assert lines(again.linked) == [2, 3] and again.listed == []
    assert {r.id for _, r in again.linked} == {first.listed[0][1].id}
    assert await stored_refs(store) == ["INC-1001"]


async def test_the_same_incident_twice_in_one_file_is_linked_to_the_first(store, clock):
    marac_id = await seeded(store, clock)
    report = await imported(store, clock, marac_id, [police_row(), police_row()])
    assert lines(report.listed) == [2] and lines(report.linked) == [3]
    assert report.linked[0][1].id == report.listed[0][1].id
    assert await count(store, Referral) == 1


async def test_the_same_victim_twice_in_a_window_is_flagged_as_a_possible_duplicate(
        store, clock):
    marac_id = await seeded(store, clock)
    report = await imported(store, clock, marac_id, [
        police_row(),
        police_row(police_incident_ref="INC-1002", incident_date="2026-11-22",
                   received_on="2026-11-24", dash_yes_count="17"),
    ])
    assert lines(report.listed) == [2] and lines(report.possible_duplicates) == [3]
    duplicate = report.possible_duplicates[0][1]
    assert duplicate.status is ReferralStatus.POSSIBLE_DUPLICATE
    assert duplicate.duplicate_of_id == report.listed[0][1].id
    assert await stored_refs(store) == ["INC-1001", "INC-1002"]


async def test_bad_rows_are_reported_by_line_and_nothing_of_them_is_stored(store, clock):
    marac_id = await seeded(store, clock)
    report = await imported(store, clock, marac_id, [
        police_row(police_incident_ref="INC-1"),
        police_row(police_incident_ref="INC-2", victim_reference=""),
        police_row(police_incident_ref="INC-3", incident_date="20/11/2026"),
        police_row(police_incident_ref="INC-4", referring_agency="Fire Service"),
        police_row(police_incident_ref="", victim_reference="RIV-V-2005"),
        police_row(police_incident_ref="INC-6", victim_reference="RIV-V-2006"),
    ])
    assert report.refused == [
        (3, "Please give the victim's reference."),
        (4, "The incident date must be a date like 2026-11-24, not '20/11/2026'."),
        (5, "'Fire Service' is not one of this MARAC's agencies."),
        (6, "Please give the police incident reference."),
    ]
    assert all(is_one_sentence(sentence) for _, sentence in report.refused)
    assert lines(report.listed) == [2, 7]
    assert await stored_refs(store) == ["INC-1", "INC-6"]


async def test_a_refused_row_can_be_imported_once_corrected(store, clock):
    marac_id = await seeded(store, clock)
    bad = await imported(store, clock, marac_id, [police_row(received_on="2026-11-25")])
    assert bad.refused == [(2, "The date received cannot be in the future.")]
    good = await imported(store, clock, marac_id, [police_row()])
    assert lines(good.listed) == [2] and good.linked == []


async def test_a_row_with_an_empty_dash_count_is_refused(store, clock):
    marac_id = await seeded(store, clock)
    report = await imported(store, clock, marac_id, [
        police_row(dash_yes_count=""), police_row(police_incident_ref="INC-1002")])
    assert report.refused == [(2, "Please give the DASH yes-count: answer the DASH checklist.")]
    assert lines(report.listed) == [3]
    assert await stored_refs(store) == ["INC-1002"]


def test_control_characters_in_a_row_are_made_safe_for_word():
    [(_, row)] = read_rows(csv_bytes([police_row(escalation_detail="Texts\x0bthen calls\x01.")]))
    assert row["escalation_detail"] == "Texts\nthen calls."
