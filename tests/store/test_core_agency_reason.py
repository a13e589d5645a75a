"""A core agency that shares information on a case with no action of its own must say why
before the case's planning closes (002); on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from dialogs import case_work
from dialogs import meeting as run
from dialogs.meeting import MeetingError
from storage.models import ActionOrigin, Case, CaseStatus, PlannedAction
from tests.store.meeting_factory import CHANNEL, case_named, end, exceptional, next_case, started

CSC = "Children's Social Care"


@pytest.fixture
async def open_case(store, clock):
    """The first case open, Children's Social Care owning no action on it; (demo, number)."""
    demo = await started(store, clock)
    _, number = await next_case(store, clock)
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.number == number))
        await session.execute(delete(PlannedAction).where(
            PlannedAction.case_id == case.id,
            PlannedAction.owning_agency_id == demo.agencies[CSC]))
    return demo, number


async def share(store, clock, demo, number: str, agency: str, text: str = "Known since 2024.",
                not_involved: bool = False, reason: str = "") -> None:
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.number == number))
        await case_work.add_information(session, case, demo.agencies[agency], text,
                                        not_involved, None, clock.now(), reason)


async def test_closing_waits_for_a_silent_core_agency_to_say_why(store, clock, open_case):
    demo, number = open_case
    await share(store, clock, demo, number, CSC)
    with pytest.raises(MeetingError) as refused:
        await next_case(store, clock)
    assert str(refused.value) == (
        f"Children's Social Care shared information on {number} with no action of its own: "
        "add one, or say why none follows (Add agency information, on its card).")
    assert (await case_named(store, number)).status is CaseStatus.OPEN  # nothing changed
    with pytest.raises(MeetingError, match="Children's Social Care shared information"):
        await end(store, clock)

    await share(store, clock, demo, number, CSC, reason="No children live at the address.")
    assert (await next_case(store, clock))[0] == number
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.number == number))
        view = await case_work.view(session, case, demo.marac_id)
    assert (CSC, "Known since 2024. No action follows: No children live at the address.") in [
        (line.agency, line.text) for line in view.information]


@pytest.mark.parametrize("how", ["not involved", "not core", "an action", "earlier plan only",
                                 "exceptional"])
async def test_no_reason_is_owed(store, clock, open_case, how):
    demo, number = open_case
    agency = "Health" if how == "not core" else CSC
    await share(store, clock, demo, number, agency, not_involved=how == "not involved")
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.number == number))
        if how in ("an action", "earlier plan only"):
            session.add(PlannedAction(
                case_id=case.id, owning_agency_id=demo.agencies[CSC], for_whom="children",
                description="Visit the school.", origin=ActionOrigin.MEETING
                if how == "an action" else ActionOrigin.EARLIER_PLAN))
    if how == "exceptional":
        await exceptional(store, clock, "moved", "Moved to Hillside.")
        return
    if how == "earlier plan only":
        with pytest.raises(MeetingError, match="no action of its own"):
            await next_case(store, clock)
        return
    assert (await next_case(store, clock))[0] == number


async def test_the_reason_is_kept_to_a_sensible_length(store, clock, open_case):
    demo, number = open_case
    with pytest.raises(MeetingError, match="Keep the reason for no action under 1,000 characters"):
        await share(store, clock, demo, number, CSC, reason="x" * 1001)
    async with store.unit_of_work() as session:
        meeting = await run.must_be_under_way(session, CHANNEL)
        assert await run.core_agencies_without_a_reason(
            session, await run.open_case(session, meeting)) == []


async def test_another_agencys_action_does_not_excuse_a_silent_core_agency(store, clock,
                                                                         open_case):
    """Each core agency's own actions are counted, not any action on the case (`next` reads
    the silent agencies in the statement that finds the cases to close and open)."""
    demo, number = open_case
    await share(store, clock, demo, number, CSC)
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.number == number))
        session.add(PlannedAction(
            case_id=case.id, owning_agency_id=demo.agencies["Police"], for_whom="victim",
            description="Flag the address.", origin=ActionOrigin.MEETING))
    with pytest.raises(MeetingError, match="Children's Social Care shared information"):
        await next_case(store, clock)
    assert (await case_named(store, number)).status is CaseStatus.OPEN
