"""A transfer between the demo's two MARACs, through the Agents Playground (issue 17; 002 §11).

Riverside heard Amy's case a month ago (set up in the stack's database through the dialogs,
as the meeting would have left it: referred, heard, closed, its plan's first version written).
Cara, Riverside's coordinator, types `transfer RIV-…-001 Westbrook` in her personal chat at
the stack's Playground: she is told it is in Westbrook's triage and offered the referral
document. Ellis, Westbrook's coordinator, at a Playground of her own whose team is Westbrook's
(infra/playground/westbrook.yml), finds it in `triage` marked as a transfer from Riverside
with the earlier plan, counted as a repeat (heard within 12 months), accepts it, and sees it on
her agenda as a repeat transferred from Riverside with the earlier plan's actions.

A stack of the module's own (a fresh database per backend), so no other test's cases mix in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.ops.playground import WESTBROOK_TEAM_CONFIG, start_playground
from dialogs.demo import DEMO_MARAC, WESTBROOK_MARAC
from dialogs.plans import record_version
from dialogs.referrals import read_form, submit
from dialogs.scheduling import local_today
from storage.models import (
    ActionOrigin,
    Agency,
    Case,
    CaseStatus,
    Marac,
    Meeting,
    MeetingStatus,
    PlannedAction,
    Referral,
    ReferralSource,
)
from tests.store.referral_factory import card_payload

from .conftest import (
    BACKENDS,
    Stack,
    _wait_until_up,
    connected,
    database_of,
    free_port,
    fresh_database,
    running_stack,
)
from .playground_client import ADAPTIVE_CARD, CARA, PlaygroundClient, card_texts, facts_of
from .test_playground import the_card
from .test_referrals import answered_card, ask, buttons_of, inputs_of

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

ELLIS = "user-id-10"
REFERENCE = "RIV-V-7001"
_STACKS: dict[str, Stack] = {}


@pytest_asyncio.fixture(scope="module", loop_scope="session", params=BACKENDS)
async def transfer_stack(request: pytest.FixtureRequest,
                         tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    backend = request.param
    async with fresh_database(backend, tmp_path_factory) as url, running_stack(
            backend, url, tmp_path_factory.mktemp(f"e2e-transfer-{backend}"),
            _STACKS) as stack:
        yield stack


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def cara(transfer_stack: Stack) -> AsyncIterator[PlaygroundClient]:
    async with connected(transfer_stack.playground_port) as client:
        yield client


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def ellis(transfer_stack: Stack) -> AsyncIterator[PlaygroundClient]:
    """Westbrook's coordinator, at a Playground whose team is Westbrook's."""
    output = transfer_stack.workdir / "playground-westbrook.out"
    debug_log = transfer_stack.workdir / "playground-westbrook-debug.log"
    transfer_stack.seat_logs += [("Westbrook's Playground output", output),
                                 ("Westbrook's Playground debug log", debug_log)]
    log = output.open("wb")
    transfer_stack.log_handles.append(log)
    port = free_port()
    process = start_playground(f"http://127.0.0.1:{transfer_stack.bot_port}/api/messages",
                               port=port, config=WESTBROOK_TEAM_CONFIG, log=log,
                               log_file=debug_log)
    transfer_stack.processes.append(process)  # stopped with the stack, before the bot
    await _wait_until_up(transfer_stack, process,
                         f"http://127.0.0.1:{port}/_internal/v1/config",
                         "Westbrook's Agents Playground")
    async with connected(port) as client:
        yield client


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def db(transfer_stack: Stack) -> AsyncIterator[AsyncEngine]:
    async with database_of(transfer_stack) as engine:
        yield engine


async def heard_a_month_ago(stack: Stack, db: AsyncEngine) -> str:
    """Amy's case, referred by the IDVA Service, heard at Riverside a month before the stack's
    clock and closed with one action: the plan's first version written. Its number."""
    now = stack.now()
    sessions = async_sessionmaker(db, expire_on_commit=False)
    async with sessions() as session, session.begin():
        marac = await session.scalar(select(Marac).where(Marac.name == DEMO_MARAC))
        assert marac is not None
        heard_at = now - timedelta(days=30)
        day = local_today(marac, heard_at)
        form = read_form(card_payload(victim_first_name="Amy", victim_reference=REFERENCE,
                                      incident_date=(day - timedelta(days=12)).isoformat(),
                                      received_on=(day - timedelta(days=10)).isoformat()), day)
        referral = (await submit(session, marac, form, None, heard_at)).referral
        meeting = await session.scalar(select(Meeting).where(Meeting.marac_id == marac.id))
        assert meeting is not None
        meeting.starts_at, meeting.status = heard_at, MeetingStatus.ENDED
        meeting.started_at, meeting.ended_at = heard_at, heard_at + timedelta(hours=2)
        case = await session.scalar(select(Case).where(Case.meeting_id == meeting.id,
                                                       Case.slot == 1))
        assert case is not None
        case.referral_id, case.status = referral.id, CaseStatus.CLOSED
        case.closed_at, case.victim_contact = heard_at + timedelta(minutes=20), "Imogen"
        idva = await session.scalar(select(Agency.id).where(Agency.marac_id == marac.id,
                                                            Agency.name == "IDVA Service"))
        session.add(PlannedAction(case_id=case.id, origin=ActionOrigin.MEETING,
                                  owning_agency_id=idva, for_whom="victim",
                                  description="Safety plan with Amy."))
        await session.flush()
        await record_version(session, case, None, "The plan agreed at the meeting.",
                             "Closed at the meeting.", heard_at + timedelta(minutes=20))
        return case.number


def facts(card: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for title, value in facts_of(card):
        found.setdefault(title, []).append(value)
    return found


async def test_a_case_heard_at_riverside_is_transferred_into_westbrooks_triage_as_a_repeat(
        transfer_stack: Stack, cara: PlaygroundClient, ellis: PlaygroundClient,
        db: AsyncEngine) -> None:
    number = await heard_a_month_ago(transfer_stack, db)
    cara.begin()
    ellis.begin()

    told = await ask(cara, CARA, f"transfer {number} Westbrook")
    text = told["message"].get("text") or ""
    assert f"Transfer of {number} to {WESTBROOK_MARAC} recorded" in text, text
    assert "Westbrook MARAC's triage" in text
    offered = await cara.wait_for(
        lambda f: any(a.get("contentType") == "application/vnd.microsoft.teams.card.file.consent"
                      for a in (f.get("message") or {}).get("attachments") or []),
        what="the referral document's file consent card")
    consent = offered["message"]["attachments"][0]
    assert consent["content"]["acceptContext"] == {"kind": "transfer", "marac": 1,
                                                   "case": number}
    assert "OFFICIAL-SENSITIVE" in consent["content"]["description"]

    triage = await ask(ellis, ELLIS, "triage")
    card = the_card(triage)
    shown = facts(card)
    assert card_texts(card)[0] == "Triage"
    assert shown["Transfer from"] == [f"Riverside MARAC (case {number})"], shown
    assert shown["Earlier plan"] == [f"{number}, version 1"]
    assert shown["Earlier action"] == ["IDVA Service: Safety plan with Amy. (open)"]
    assert "repeat" in shown["Qualifies by"][0]
    assert any("Amy · transfer" in t for t in card_texts(card))

    accepted = answered_card(await ellis.invoke(
        ellis.config["personalChat"]["id"], ELLIS, triage["message"]["messageId"],
        "triage.accept", {**inputs_of(card), **buttons_of(card)["Accept"]["data"]}))
    assert "Accepted" in " ".join(card_texts(accepted)), card_texts(accepted)

    agenda = the_card(await ask(ellis, ELLIS, "agenda"))
    lines = card_texts(agenda)
    flags = next(t for n, t in enumerate(lines) if n and "Amy" in lines[n - 1])
    assert "repeat" in flags and "transfer from Riverside MARAC" in flags, lines
    assert any("Safety plan with Amy." in value for _, value in facts_of(agenda)), lines

    async with async_sessionmaker(db)() as session:
        arrived = await session.scalar(select(Referral).where(
            Referral.source == ReferralSource.TRANSFER))
        assert arrived is not None
        westbrook = await session.scalar(select(Marac.id).where(Marac.name == WESTBROOK_MARAC))
        assert arrived.marac_id == westbrook and arrived.repeat_of_id is not None
        assert arrived.victim_reference == REFERENCE
    assert all(a.get("contentType") != ADAPTIVE_CARD or a.get("content")
               for f in ellis.frames for a in (f.get("message") or {}).get("attachments") or [])
