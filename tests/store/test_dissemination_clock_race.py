"""The timer reads its clock before its first statement waits for a turn's write: a case the
chair closed in that moment is read as closed with a closed_at a little after the timer's now.
Its plan must go out once, not be taken at once for a case "closed again" after it was sent."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from dialogs.dissemination import claim_closed_cases
from storage.models import Case, Dissemination, PlanVersion
from tests.store.meeting_factory import next_case, started


async def test_a_case_closed_just_after_the_timers_now_is_disseminated_once(store, clock):
    await started(store, clock)
    _, first = await next_case(store, clock)
    clock.set(clock.now() + timedelta(minutes=20))
    closed, _ = await next_case(store, clock)
    assert closed == first
    async with store.unit_of_work() as session:
        closed_at = await session.scalar(select(Case.closed_at).where(Case.number == first))
        timers_now = closed_at - timedelta(milliseconds=9)  # read before the close committed
        queued = await claim_closed_cases(session, timers_now)
    assert [q.case.number for q in queued] == [first]
    async with store.unit_of_work() as session:
        assert await claim_closed_cases(session, closed_at + timedelta(seconds=1)) == []
        versions = await session.scalar(select(func.count()).select_from(PlanVersion))
        disseminations = await session.scalar(select(func.count()).select_from(Dissemination))
    assert (versions, disseminations) == (1, 1)
