"""A repeat hearing reviews the last plan, through the Agents Playground (issue 17).

Amy was heard at Riverside two months ago (set up in the stack's database through the models,
as that meeting left it): the Police marked her address (done, with its note), the IDVA
Service could not complete her safety plan (with the reason), and Housing did nothing (no
answer). She is referred again within 12 months: the demo meeting's first case is her repeat.
In the MARAC channel Chris (chair) starts the meeting, he and Imogen (IDVA Service) confirm
attendance, and `next` opens Amy's case; Cara (coordinator) shows the case in full and sees
each earlier action with what became of it; Chris carries the IDVA Service's unfinished
action into the new plan with a new due date, and the full case lists it among this plan's
actions. A stack of the module's own (a fresh database per backend).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from dialogs.demo import DEMO_MARAC
from dialogs.referrals import read_form, submit
from dialogs.scheduling import local_today
from storage.models import (
    ActionFollowUp,
    ActionOrigin,
    ActionStatus,
    Agency,
    Case,
    CaseStatus,
    Marac,
    Meeting,
    MeetingStatus,
    PlannedAction,
)
from tests.store.referral_factory import card_payload

from .conftest import (
    BACKENDS,
    DISSEMINATION_SLOT_SECONDS,
    DISSEMINATION_WARNING_SECONDS,
    Stack,
    connected,
    database_of,
    fresh_database,
    running_stack,
)
from .playground_client import (
    CARA,
    CHANNEL,
    CHRIS,
    IMOGEN,
    PlaygroundClient,
    card_texts,
    facts_of,
)
from .test_meeting import answered_card, command, from_bot, press
from .test_playground import shown, the_card

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

REFERENCE = "RIV-V-8001"
_STACKS: dict[str, Stack] = {}
EARLIER = (  # agency, action, outcome, note
    ("Police", "Mark Amy's address for an urgent response.", ActionStatus.DONE,
     "Marker placed on 3 October."),
    ("IDVA Service", "Agree a safety plan with Amy.", ActionStatus.CANNOT_COMPLETE,
     "Amy moved to a refuge before we met."),
    ("Housing", "Offer Amy a move to a safe address.", None, ""),
)


@pytest_asyncio.fixture(scope="module", loop_scope="session", params=BACKENDS)
async def repeat_stack(request: pytest.FixtureRequest,
                       tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    backend = request.param
    async with fresh_database(backend, tmp_path_factory) as url, running_stack(
            backend, url, tmp_path_factory.mktemp(f"e2e-repeat-{backend}"), _STACKS,
            demo_args=("--slot-seconds", str(DISSEMINATION_SLOT_SECONDS),
                       "--warning-seconds", str(DISSEMINATION_WARNING_SECONDS))) as stack:
        yield stack


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def cara(repeat_stack: Stack) -> AsyncIterator[PlaygroundClient]:
    async with connected(repeat_stack.playground_port) as client:
        yield client


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def db(repeat_stack: Stack) -> AsyncIterator[AsyncEngine]:
    async with database_of(repeat_stack) as engine:
        yield engine


async def heard_before_and_referred_again(stack: Stack, db: AsyncEngine) -> str:
    """Amy's earlier hearing two months ago with its three actions' outcomes, and her new
    referral, a repeat, as the demo meeting's first case. Its number."""
    now = stack.now()
    heard_at = now - timedelta(days=60)
    sessions = async_sessionmaker(db, expire_on_commit=False)
    async with sessions() as session, session.begin():
        marac = await session.scalar(select(Marac).where(Marac.name == DEMO_MARAC))
        assert marac is not None
        agencies = {a.name: a.id for a in (await session.scalars(
            select(Agency).where(Agency.marac_id == marac.id))).all()}
        before = local_today(marac, heard_at)
        first = (await submit(session, marac, read_form(card_payload(
            victim_first_name="Amy", victim_reference=REFERENCE,
            incident_date=(before - timedelta(days=12)).isoformat(),
            received_on=(before - timedelta(days=10)).isoformat()), before), None,
            heard_at)).referral
        earlier = Meeting(marac_id=marac.id, starts_at=heard_at, status=MeetingStatus.ENDED,
                          started_at=heard_at, ended_at=heard_at + timedelta(hours=2))
        session.add(earlier)
        await session.flush()
        case = Case(number=f"RIV-{heard_at.year}-900", meeting_id=earlier.id, slot=1,
                    victim_first_name="Amy", referral_id=first.id, status=CaseStatus.CLOSED,
                    closed_at=heard_at + timedelta(minutes=20), victim_contact="Imogen")
        session.add(case)
        await session.flush()
        for agency, description, status, note in EARLIER:
            action = PlannedAction(case_id=case.id, origin=ActionOrigin.MEETING,
                                   owning_agency_id=agencies[agency], for_whom="victim",
                                   description=description, owner=agency,
                                   risk="Threats to kill.",
                                   due_on=(heard_at + timedelta(days=7)).date())
            session.add(action)
            await session.flush()
            if status is not None:
                session.add(ActionFollowUp(action_id=action.id, case_id=case.id, status=status,
                                           card_sent_at=heard_at, closed_at=heard_at
                                           + timedelta(days=5), note=note))
        today = local_today(marac, now)
        again = (await submit(session, marac, read_form(card_payload(
            victim_first_name="Amy", victim_reference=REFERENCE, yes=3,
            incident_date=(today - timedelta(days=2)).isoformat(),
            received_on=today.isoformat()), today), None, now)).referral
        assert again.repeat_of_id == first.id, again.qualifying_reasons
        listed = await session.scalar(
            select(Case).join(Meeting, Meeting.id == Case.meeting_id)
            .where(Meeting.marac_id == marac.id, Meeting.status == MeetingStatus.SCHEDULED,
                   Case.slot == 1))
        assert listed is not None
        listed.referral_id = again.id
        return listed.number


async def test_the_repeat_hearings_case_view_shows_what_became_of_the_last_plan(
        repeat_stack: Stack, cara: PlaygroundClient, db: AsyncEngine) -> None:
    number = await heard_before_and_referred_again(repeat_stack, db)
    cara.begin()
    since = cara.mark()
    await cara.send_activity(await cara.template(CHANNEL, "botAdded"))
    await cara.wait_for(from_bot(CHANNEL), since=since, what="the welcome in the channel")

    _, attendance, _ = await command(cara, repeat_stack, CHRIS, "start", posts=3)
    attendance_id = attendance["message"]["messageId"]
    card = the_card(attendance)
    for user, role, agency in ((CHRIS, "chair", ""),
                               (IMOGEN, "agency_representative", "IDVA Service")):
        card = answered_card(await press(cara, user, attendance_id, card,
                                         "attendance.confirm", role=role, agency=agency))
    [opened] = await command(cara, repeat_stack, CHRIS, "next")
    case_id = opened["message"]["messageId"]
    assert card_texts(the_card(opened))[0] == f"{number} · Amy"

    full = answered_card(await press(cara, CARA, case_id, the_card(opened), "case.view"))
    earlier_number = f"RIV-{(repeat_stack.now() - timedelta(days=60)).year}-900"
    assert f"The last plan ({earlier_number}): what became of its actions" in card_texts(full)
    facts = facts_of(full)
    for agency, description, outcome in (
            ("Police", "Mark Amy's address for an urgent response.",
             "done: Marker placed on 3 October."),
            ("IDVA Service", "Agree a safety plan with Amy.",
             "could not be done: Amy moved to a refuge before we met."),
            ("Housing", "Offer Amy a move to a safe address.", "not done")):
        assert (agency, f"{description} — {outcome}") in facts, facts
    assert "Carry into this plan: 1. IDVA Service" in shown(full)

    due = (repeat_stack.now().date() + timedelta(days=14)).isoformat()
    carried = answered_card(await press(cara, CHRIS, case_id, full, "case.carry",
                                        carry_due=due))
    assert ("IDVA Service", f"Agree a safety plan with Amy. — for the victim; owner IDVA "
                            f"Service; due {due}") in facts_of(carried), facts_of(carried)
