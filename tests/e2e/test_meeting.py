"""Running the meeting through the Agents Playground, in the MARAC channel, on a stack of its
own (conftest.py's `meeting_stack`: slots of a few seconds, the timer runner waking often).

One meeting, in file order: Chris (chair) starts it; Chris, Priya (Police), Imogen (IDVA
Service) and Owen (observer) confirm attendance; case 1 is worked (information, an action,
who updates the victim), with the refusals on the way (Priya's `next`, Owen's view, actions
missing an owner or a description or due in the past), and runs over its slot; case 2 is
opened and the bot restarted under it, twice, and its warnings still come once each, on time;
it is deferred; case 3 is marked exceptional; `end` sums it up. Then, at the next meeting
(where case 2 was deferred to), the bot is stopped while Teams has shown a slot warning but
not yet acknowledged it (a relay holds the Playground's answer back). Other users than the
Playground's own (Cara) speak through customActivities, and a press of a card posted in the
channel comes from that post's thread ("19:...;messageid=<the card's id>").

The tests of one backend share the meeting, so a failure early on fails the rest. Two of
them guard fixed faults: a slot declared over up to a second early, and a warning posted
again two minutes after a restart that caught it in delivery.

The bot's clock stands still (conftest.py's `meeting_stack`): the tests move it through each
slot with `move_clock`, so a warning is due exactly when a test makes it due, however busy
the machine, and a restart takes no time of the meeting's.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from dialogs.clock import set_clock
from dialogs.demo import DEMO_PEOPLE
from storage.models import Case, CaseStatus, OutboxMessage, Person, PlannedAction
from tests.clock import PATIENCE, pinned_now

from .conftest import (
    MEETING_SLOT_SECONDS,
    MEETING_WARNING_SECONDS,
    Stack,
    free_port,
    restart_bot,
)
from .playground_client import (
    ADAPTIVE_CARD,
    BOT_ID,
    CHANNEL,
    CHRIS,
    IMOGEN,
    OWEN,
    PRIYA,
    Frame,
    PlaygroundClient,
    card_texts,
    cards_of,
    conversation_of,
    describe,
    facts_of,
    text_of,
    thread_of,
)
from .test_playground import card_problems, demo_case_lines, shown, the_card

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

SLOT = MEETING_SLOT_SECONDS
WARNING = MEETING_WARNING_SECONDS
SECOND = 1.0  # the bot counts a slot in whole seconds
QUIET_PERIOD = 1.0  # how long to watch for a message that must not come (timer ticks: 0.3 s)
SLOT_WARNING = re.compile(r"(RIV-\d{4}-\d{3}): (?:(\d+) seconds? of the slot remain\.|the "
                          r"slot is over\. The chair can \*\*extend\*\*, \*\*defer\*\* or "
                          r"\*\*next\*\*\.)")
COUNTS = re.compile(r"(\d+) agenc(?:y has|ies have) shared information; (\d+) actions? agreed\.")
PLAIN_SENTENCE = re.compile(r"[A-Z][^*\n]*\.")


# --- what the tests share ---------------------------------------------------------------

@dataclass
class Meeting:
    """What one backend's tests have seen of the meeting so far."""

    year: int
    attendance_card: str = ""  # the message id of the attendance card
    case_cards: dict[str, str] = field(default_factory=dict)  # case number: message id
    opened: dict[str, datetime] = field(default_factory=dict)  # case number: `next` sent
    finished: dict[str, datetime] = field(default_factory=dict)  # case number: its last word
    clocks: dict[str, Any] = field(default_factory=dict)  # case number: its stored clock

    def number(self, slot: int) -> str:
        return f"RIV-{self.year}-{slot:03d}"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def meeting(meeting_stack: Stack, meeting_playground: PlaygroundClient) -> Meeting:
    """The bot installed in the MARAC channel (its reference is what the slot warnings are
    posted through), welcomed once; the meeting's record starts empty."""
    client = meeting_playground
    since = client.mark()
    await client.send_activity(await client.template(CHANNEL, "botAdded"))
    welcome = the_card(await client.wait_for(from_bot(CHANNEL), since=since, what="welcome"))
    assert "Riverside MARAC" in shown(welcome)
    return Meeting(year=meeting_stack.seeded_at.year)


@pytest.fixture
def playground(meeting_playground: PlaygroundClient) -> PlaygroundClient:
    meeting_playground.begin()
    return meeting_playground


def move_clock(stack: Stack, opened: datetime, seconds: float) -> None:
    """Stand the bot's clock `seconds` after a case was opened."""
    set_clock(stack.clock_file, opened + timedelta(seconds=seconds), frozen=True)


# --- reading what the bot posts ---------------------------------------------------------

def from_bot(conversation_id: str, action: str = "createMessage") -> Any:
    return lambda frame: (frame.get("action") == action
                          and conversation_of(frame) == conversation_id
                          and (frame["message"].get("from") or {}).get("id") == BOT_ID)


def slot_warning(frame: Frame) -> tuple[str, bool] | None:
    """(case number, True for 'the slot is over') for a slot warning; None for anything else."""
    if frame.get("action") != "createMessage":
        return None
    said = SLOT_WARNING.fullmatch(text_of(frame))
    return (said.group(1), said.group(2) is None) if said else None


def warnings_for(client: PlaygroundClient, number: str, over: bool,
                 since: int = 0) -> list[Frame]:
    return [f for f in client.frames[since:] if from_bot(CHANNEL)(f)
            and slot_warning(f) == (number, over)]


def updates_of(client: PlaygroundClient, message_id: str, since: int) -> list[Frame]:
    """The bot's replacements of one message, from `since` on."""
    return [f for f in client.frames[since:] if from_bot(CHANNEL, "updateMessage")(f)
            and f["message"].get("messageId") == message_id]


def counts(card: dict[str, Any]) -> tuple[int, int]:
    """What the case card says: agencies that shared information, actions agreed."""
    found = [COUNTS.fullmatch(text) for text in card_texts(card)]
    [said] = [m for m in found if m]
    return int(said.group(1)), int(said.group(2))


async def wait_for_update(client: PlaygroundClient, message_id: str, since: int,
                          check: Any, what: str) -> dict[str, Any]:
    """The first replacement of the message, from `since` on, whose card passes `check`."""
    frame = await client.wait_for(
        lambda f: (from_bot(CHANNEL, "updateMessage")(f)
                   and f["message"].get("messageId") == message_id
                   and check(the_card(f))),
        since=since, what=what)
    return the_card(frame)


# --- what people do ---------------------------------------------------------------------

async def command(client: PlaygroundClient, stack: Stack, user: str, text: str,
                  posts: int = 1) -> list[Frame]:
    """`user` types `text` in the channel, mentioning the bot; the bot's `posts` new posts in
    answer (slot warnings, which the timer posts meanwhile, left out)."""
    since, handled = client.mark(), stack.deliveries()
    await client.say(CHANNEL, user, text, mention_bot=True)
    await stack.wait_for_deliveries(handled + 1)

    def answers() -> list[Frame]:
        return [f for f in client.frames[since:]
                if from_bot(CHANNEL)(f) and slot_warning(f) is None]
    await client.wait_for(lambda _: len(answers()) >= posts, since=since,
                          what=f"{posts} posts in answer to {text!r}")
    return answers()


async def said(client: PlaygroundClient, stack: Stack, user: str, text: str) -> str:
    """The one sentence the bot answers a command with."""
    [reply] = await command(client, stack, user, text)
    assert not cards_of(reply), f"{text!r} was answered with a card: {describe(reply)}"
    return text_of(reply)


def find_button(card: dict[str, Any], verb: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The card's `Action.Execute` of that verb, and the inputs Teams sends with it: those of
    the (show-)card holding the button and of the cards around it, as they are shown."""
    def inputs(node: Any) -> dict[str, str]:
        found: dict[str, str] = {}
        if isinstance(node, dict):
            if node.get("type") == "Action.ShowCard":
                return found  # another card's inputs
            if str(node.get("type", "")).startswith("Input.") and "id" in node:
                found[node["id"]] = str(node.get("value", ""))
            for key, value in node.items():
                if key != "actions" or node.get("type") == "ActionSet":
                    found.update(inputs(value))
        elif isinstance(node, list):
            for item in node:
                found.update(inputs(item))
        return found

    def search(node: Any, around: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]] | None:
        if isinstance(node, dict):
            if node.get("type") == "AdaptiveCard":
                around = {**around, **inputs(node.get("body", []))}
            if node.get("type") == "Action.Execute" and node.get("verb") == verb:
                return node, around
            for value in node.values():
                if (found := search(value, around)) is not None:
                    return found
        elif isinstance(node, list):
            for item in node:
                if (found := search(item, around)) is not None:
                    return found
        return None

    found = search(card, {})
    assert found is not None, f"no {verb!r} button on the card: {shown(card)!r}"
    return found


async def press(client: PlaygroundClient, user: str, message_id: str, card: dict[str, Any],
                verb: str, **values: str) -> dict[str, Any]:
    """`user` presses the `verb` button of the card posted in the channel as `message_id`,
    having filled in `values` (inputs of that card only); the bot's invoke answer."""
    button, shown_inputs = find_button(card, verb)
    unknown = set(values) - set(shown_inputs)
    assert not unknown, f"the card has no inputs {unknown} for {verb!r}: {shown_inputs}"
    data = {**shown_inputs, **values, **button.get("data", {})}
    return await client.invoke(thread_of(CHANNEL, message_id), user, message_id, verb, data)


def answered_card(answer: dict[str, Any]) -> dict[str, Any]:
    assert answer.get("type") == ADAPTIVE_CARD, f"answered without a card: {answer}"
    card: dict[str, Any] = answer["value"]
    return card


def answered_sentence(answer: dict[str, Any]) -> str:
    assert answer.get("type") == "application/vnd.microsoft.activity.message", (
        f"answered with a card, not a sentence: {answer}")
    sentence = str(answer["value"])
    assert PLAIN_SENTENCE.fullmatch(sentence), f"not one plain sentence: {sentence!r}"
    return sentence


# --- the store ----------------------------------------------------------------------------

async def case_state(db: AsyncEngine, number: str) -> Any:
    async with AsyncSession(db) as session:
        return (await session.execute(
            select(Case.status, Case.opened_at, Case.warned_at, Case.overrun_at)
            .where(Case.number == number))).one()


async def actions_stored(db: AsyncEngine, number: str) -> int:
    async with AsyncSession(db) as session:
        return await session.scalar(
            select(func.count()).select_from(PlannedAction).join(
                Case, Case.id == PlannedAction.case_id).where(Case.number == number)) or 0


async def undelivered(db: AsyncEngine) -> list[Any]:
    """The outbox's messages to the channel (slot warnings, cards redrawn) not (yet) recorded
    as delivered. (Messages to people are left out: Sam, of Children's Social Care, is not in
    the Playground, so what is sent to him waits until it fails.)"""
    async with AsyncSession(db) as session:
        return list((await session.execute(
            select(OutboxMessage.id, OutboxMessage.purpose, OutboxMessage.attempts,
                   OutboxMessage.next_attempt_at, OutboxMessage.last_error)
            .where(OutboxMessage.delivered_at.is_(None),
                   OutboxMessage.conversation_id.like(f"{CHANNEL}%"))
            .order_by(OutboxMessage.id))).all())


async def outbox_settled(db: AsyncEngine, timeout: float = PATIENCE) -> None:  # noqa: ASYNC109
    """Wait until the outbox has delivered all it holds: a quiet moment to restart the bot
    in (a restart in the middle of a delivery is test_a_restart_during_a_delivery_...)."""
    deadline = time.monotonic() + timeout
    while left := await undelivered(db):
        assert time.monotonic() < deadline, f"the outbox did not settle: {left}"
        await asyncio.sleep(0.05)


async def warnings_left(db: AsyncEngine, within: float) -> list[Any]:
    """Slot warnings and case cards still undelivered after up to `within` seconds."""
    deadline = time.monotonic() + within
    left = []
    for _ in range(int(within / 0.1)):
        left = [row for row in await undelivered(db)
                if row.purpose in ("slot warning", "case card")]
        if not left or time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.1)
    return left


def london_today() -> date:
    """The demo MARAC's day on the meeting's clock (standing at the pinned instant)."""
    return pinned_now().astimezone(ZoneInfo("Europe/London")).date()


def an_action(**changes: str) -> dict[str, str]:
    """Every field of the card's 'Add an action', filled in as Priya would."""
    return {"agency": "Police", "owner": "Priya",
            "description": "Flag the address for an urgent response",
            "for_whom": "victim", "risk": "Threats to kill",
            "due_on": (london_today() + timedelta(days=7)).isoformat(), **changes}


# --- 1. start and attendance ------------------------------------------------------------

async def test_start_posts_the_agenda_and_the_attendance_card(
        playground: PlaygroundClient, meeting_stack: Stack, meeting: Meeting) -> None:
    agenda, attendance, opened = await command(playground, meeting_stack, CHRIS, "start",
                                               posts=3)

    lines = demo_case_lines(meeting.year)
    agenda_card = the_card(agenda)
    assert re.fullmatch(r"Riverside MARAC: Wednesday \d\d \w+ \d{4}, 09:30",
                        card_texts(agenda_card)[0])
    assert [value for _, value in facts_of(agenda_card)] == lines
    times = {title for title, _ in facts_of(agenda_card)}
    extra = set(card_texts(agenda_card)[1:]) - set(lines) - times
    assert not extra, f"the channel's agenda shows more than case numbers and first names: {extra}"

    card = the_card(attendance)
    assert card_texts(card)[0] == "Riverside MARAC: attendance"
    assert "Nobody has confirmed yet." in card_texts(card)
    assert ("Core agencies missing: Police, IDVA Service, Children's Social Care"
            in card_texts(card))
    meeting.attendance_card = attendance["message"]["messageId"]
    assert text_of(opened) == "The meeting is open. The chair opens the first case with **next**."

    assert await said(playground, meeting_stack, CHRIS, "start") == (
        "The meeting is already running here.")


async def test_attendance_is_confirmed_and_the_card_updated_in_place(
        playground: PlaygroundClient, meeting: Meeting) -> None:
    since = playground.mark()
    card_id = meeting.attendance_card
    [posted] = [f for f in playground.frames if f.get("message", {}).get("messageId") == card_id]
    card = the_card(posted)

    refused = await press(playground, OWEN, card_id, card, "attendance.confirm",
                          role="agency_representative", agency="Housing")
    assert answered_sentence(refused) == ("You are not an agency representative of this MARAC; "
                                          "attend as an observer.")
    assert not updates_of(playground, card_id, since)

    for user, role, agency in ((CHRIS, "chair", ""), (PRIYA, "agency_representative", "Police"),
                               (IMOGEN, "agency_representative", "IDVA Service"),
                               (OWEN, "observer", "")):
        card = answered_card(await press(playground, user, card_id, card, "attendance.confirm",
                                         role=role, agency=agency))

    def everyone(shown_card: dict[str, Any]) -> bool:
        return len(facts_of(shown_card)) == 4
    updated = await wait_for_update(playground, card_id, since, everyone,
                                    "the attendance card with the four present")
    assert updated == card, "the card in the channel is not the one Owen was answered with"
    present = dict(facts_of(updated))
    assert present == {"chair": "Chris", "Police": "Priya", "IDVA Service": "Imogen",
                       "observer": "Owen"}, present
    assert "Core agencies missing: Children's Social Care" in card_texts(updated)
    assert len(updates_of(playground, card_id, since)) == 4  # one per confirmation


# --- 2. case 1: worked, refused, overrun ------------------------------------------------

async def test_the_chair_opens_the_first_case_with_its_number_and_first_name_only(
        playground: PlaygroundClient, meeting_stack: Stack, meeting: Meeting) -> None:
    number = meeting.number(1)
    meeting.opened[number] = meeting_stack.now()
    [posted] = await command(playground, meeting_stack, CHRIS, "next")

    card = the_card(posted)
    meeting.case_cards[number] = posted["message"]["messageId"]
    said_on_card = card_texts(card)
    assert said_on_card[0] == f"{number} · Amy"
    assert re.fullmatch(r"Status: 0:\d\d left of the slot", said_on_card[1]), said_on_card[1]
    assert counts(card) == (0, 0)
    buttons = {b.get("title") for b in card.get("actions", [])}
    assert buttons == {"Show case details", "Add agency information", "Add an action",
                       "Victim contact"}


async def test_only_the_chair_can_advance_the_agenda(
        playground: PlaygroundClient, meeting_stack: Stack, meeting_db: AsyncEngine,
        meeting: Meeting) -> None:
    since = playground.mark()

    refusal = await said(playground, meeting_stack, PRIYA, "next")

    assert refusal == ("Only a chair of this MARAC can use 'next'; ask your coordinator if you "
                       "need it.")
    assert (await case_state(meeting_db, meeting.number(1))).status is CaseStatus.OPEN
    assert (await case_state(meeting_db, meeting.number(2))).status is CaseStatus.LISTED
    await asyncio.sleep(QUIET_PERIOD)
    cards = [f for f in playground.frames[since:] if from_bot(CHANNEL)(f) and cards_of(f)]
    assert not cards, f"a card was posted: {[describe(f) for f in cards]}"


async def test_representatives_share_information_and_an_action_and_the_card_counts_them(
        playground: PlaygroundClient, meeting_db: AsyncEngine, meeting: Meeting) -> None:
    number = meeting.number(1)
    card_id = meeting.case_cards[number]
    card = the_card(next(f for f in playground.frames
                         if f.get("message", {}).get("messageId") == card_id))
    since = playground.mark()

    details = answered_card(await press(
        playground, PRIYA, card_id, card, "case.information",
        information="Two callouts to the address this month; the perpetrator is on bail.",
        not_involved="false"))
    assert ("Police", "Two callouts to the address this month; the perpetrator is on bail."
            ) in facts_of(details)
    await wait_for_update(playground, card_id, since, lambda c: counts(c) == (1, 0),
                          "the case card counting Police's information")

    details = answered_card(await press(playground, PRIYA, card_id, card, "case.action",
                                        **an_action()))
    action = an_action()
    assert ("Police", f"{action['description']} — for the victim; owner Priya; due "
            f"{action['due_on']}") in facts_of(details)
    await wait_for_update(playground, card_id, since, lambda c: counts(c) == (1, 1),
                          "the case card counting Police's action")

    answered_card(await press(playground, IMOGEN, card_id, card, "case.information",
                              information="Amy is engaging with her IDVA.",
                              not_involved="false",
                              no_action_reason="The police action covers the risk for now."))
    await wait_for_update(playground, card_id, since, lambda c: counts(c) == (2, 1),
                          "the case card counting IDVA Service's information")
    assert await actions_stored(meeting_db, number) == 1


async def test_an_observer_is_shown_only_the_shared_card(
        playground: PlaygroundClient, meeting: Meeting) -> None:
    number = meeting.number(1)
    card_id = meeting.case_cards[number]
    card = the_card(next(f for f in playground.frames
                         if f.get("message", {}).get("messageId") == card_id))

    seen = answered_card(await press(playground, OWEN, card_id, card, "case.view"))

    text = shown(seen)
    assert card_texts(seen)[0] == f"{number} · Amy"
    assert counts(seen) == (2, 1)
    for private in ("Agency information", "Risks", "Two callouts", "engaging with her IDVA",
                    "Flag the address", "Threats to kill", "Updates the victim", "DASH"):
        assert private not in text, f"the observer was shown {private!r}: {text!r}"


async def test_a_representative_is_shown_the_full_case(
        playground: PlaygroundClient, meeting: Meeting) -> None:
    number = meeting.number(1)
    card_id = meeting.case_cards[number]
    card = the_card(next(f for f in playground.frames
                         if f.get("message", {}).get("messageId") == card_id))

    seen = answered_card(await press(playground, PRIYA, card_id, card, "case.view"))

    facts = facts_of(seen)  # the agency information, then the actions
    assert card_texts(seen)[0] == f"{number} · Amy"
    assert {"Agency information", "Actions"} <= set(card_texts(seen))
    action = an_action()
    assert facts[:3] == [
        ("Police", "Two callouts to the address this month; the perpetrator is on bail."),
        ("IDVA Service", "Amy is engaging with her IDVA. No action follows: The police action "
                         "covers the risk for now."),
        ("Children's Social Care", "No relevant information held.")]
    assert facts[-1] == ("Police", f"{action['description']} — for the victim; owner Priya; "
                                   f"due {action['due_on']}")
    assert "Updates the victim: not named yet" in card_texts(seen)


@pytest.mark.parametrize(("missing", "sentence"), [
    ({"owner": ""}, "An action needs an owner."),
    ({"description": "  "}, "An action needs what is to be done."),
    ({"due_on": (london_today() - timedelta(days=1)).isoformat()},
     "The due date cannot be in the past."),
], ids=["no-owner", "no-description", "due-in-the-past"])
async def test_an_incomplete_action_is_refused_and_nothing_counted(
        playground: PlaygroundClient, meeting_db: AsyncEngine, meeting: Meeting,
        missing: dict[str, str], sentence: str) -> None:
    number = meeting.number(1)
    card_id = meeting.case_cards[number]
    card = the_card(next(f for f in playground.frames
                         if f.get("message", {}).get("messageId") == card_id))
    since = playground.mark()

    answer = await press(playground, PRIYA, card_id, card, "case.action",
                         **an_action(**missing))

    assert answered_sentence(answer) == sentence
    assert await actions_stored(meeting_db, number) == 1
    shared = answered_card(await press(playground, OWEN, card_id, card, "case.view"))
    assert counts(shared) == (2, 1)
    # The timer may redraw the card meanwhile (a slot warning), with the same counts.
    changed = [f for f in updates_of(playground, card_id, since)
               if counts(the_card(f)) != (2, 1)]
    assert not changed, f"the case card changed: {[describe(f) for f in changed]}"


async def test_a_case_is_not_closed_until_someone_will_update_the_victim(
        playground: PlaygroundClient, meeting_stack: Stack, meeting_db: AsyncEngine,
        meeting: Meeting) -> None:
    number = meeting.number(1)
    card_id = meeting.case_cards[number]
    card = the_card(next(f for f in playground.frames
                         if f.get("message", {}).get("messageId") == card_id))

    refusal = await said(playground, meeting_stack, CHRIS, "next")
    assert refusal == (f"Name who will update the victim before closing {number} (Victim "
                       "contact, on its card).")
    assert (await case_state(meeting_db, number)).status is CaseStatus.OPEN

    refused = await press(playground, PRIYA, card_id, card, "case.contact",
                          victim_contact="Imogen")
    assert "chair" in answered_sentence(refused)

    since = playground.mark()
    details = answered_card(await press(playground, CHRIS, card_id, card, "case.contact",
                                        victim_contact="Imogen"))
    assert "Updates the victim: Imogen" in card_texts(details)
    await wait_for_update(playground, card_id, since, lambda c: counts(c) == (2, 1),
                          "the case card after the victim contact was named")


async def test_the_slot_is_warned_of_then_over_and_the_card_shows_the_overrun(
        playground: PlaygroundClient, meeting_stack: Stack, meeting: Meeting) -> None:
    number = meeting.number(1)
    card_id = meeting.case_cards[number]
    opened = meeting.opened[number]

    move_clock(meeting_stack, opened, SLOT - WARNING - SECOND)
    await asyncio.sleep(QUIET_PERIOD)
    assert not warnings_for(playground, number, False), "the warning came before its time"
    move_clock(meeting_stack, opened, SLOT - WARNING)
    warning = await playground.wait_for(
        lambda f: slot_warning(f) == (number, False), since=0, what=f"the warning for {number}")
    assert int(re.findall(r"\d+", text_of(warning))[-1]) == WARNING

    move_clock(meeting_stack, opened, SLOT - SECOND)
    await asyncio.sleep(QUIET_PERIOD)
    assert not warnings_for(playground, number, True), "the slot was over before its time"
    move_clock(meeting_stack, opened, SLOT)
    over = await playground.wait_for(
        lambda f: slot_warning(f) == (number, True), since=0, what=f"the end of {number}'s slot")
    after = playground.frames.index(over)
    overrun = await wait_for_update(
        playground, card_id, after, lambda c: any("over by" in t for t in card_texts(c)),
        f"{number}'s card showing the overrun")
    assert any(re.fullmatch(r"\*\*Overrun: \d+ min \d+ s\*\*", t) for t in card_texts(overrun))
    assert counts(overrun) == (2, 1)


# --- 3. case 2: a restart under it, then deferred ---------------------------------------

async def test_a_restart_mid_slot_neither_loses_nor_repeats_the_warnings(
        playground: PlaygroundClient, meeting_stack: Stack, meeting_db: AsyncEngine,
        meeting: Meeting) -> None:
    first, number = meeting.number(1), meeting.number(2)
    meeting.finished[first] = meeting.opened[number] = meeting_stack.now()
    closed, posted = await command(playground, meeting_stack, CHRIS, "next", posts=2)
    opened = meeting.opened[number]
    assert text_of(closed) == (f"Planning for {first} is closed; the plan is the collective "
                               "responsibility of 3 people present.")
    card = the_card(posted)
    assert card_texts(card)[0] == f"{number} · Bethan"
    card_id = meeting.case_cards[number] = posted["message"]["messageId"]
    since = playground.mark()

    move_clock(meeting_stack, opened, SLOT - WARNING - SECOND)
    await outbox_settled(meeting_db)
    await restart_bot(meeting_stack)  # mid-slot: a second before its warning is due
    assert not warnings_for(playground, number, False, since)

    move_clock(meeting_stack, opened, SLOT - WARNING)
    warning = await playground.wait_for(
        lambda f: slot_warning(f) == (number, False), since=since,
        what=f"the warning for {number} after the restart")
    await wait_for_update(playground, card_id, playground.frames.index(warning),
                          lambda c: counts(c) == (0, 0), f"{number}'s card redrawn")

    move_clock(meeting_stack, opened, SLOT - SECOND)
    await outbox_settled(meeting_db)
    await restart_bot(meeting_stack)  # between the warning and the slot's end
    assert not warnings_for(playground, number, True, since)

    move_clock(meeting_stack, opened, SLOT)
    over = await playground.wait_for(
        lambda f: slot_warning(f) == (number, True), since=since,
        what=f"the end of {number}'s slot after the restarts")
    await wait_for_update(playground, card_id, playground.frames.index(over),
                          lambda c: any("over by" in t for t in card_texts(c)),
                          f"{number}'s card showing the overrun")
    await asyncio.sleep(QUIET_PERIOD)
    assert len(warnings_for(playground, number, False)) == 1, "the warning came twice"
    assert len(warnings_for(playground, number, True)) == 1, "'the slot is over' came twice"
    state = meeting.clocks[number] = await case_state(meeting_db, number)
    assert state.status is CaseStatus.OPEN


async def test_the_slot_is_over_only_once_its_time_has_run(
        meeting_db: AsyncEngine, meeting: Meeting) -> None:
    """From the store: when each warning was claimed, from the case's opening, on the bot's
    clock (which the tests moved a second short of each moment first). Case 2's clock, read
    before it was deferred, is checked too."""
    first, second = meeting.number(1), meeting.number(2)
    meeting.clocks[first] = await case_state(meeting_db, first)
    assert set(meeting.clocks) == {first, second}
    early = {}
    for number, clock in meeting.clocks.items():
        warned = (clock.warned_at - clock.opened_at).total_seconds()
        over = (clock.overrun_at - clock.opened_at).total_seconds()
        if not (SLOT - WARNING <= warned < SLOT - WARNING + SECOND
                and SLOT <= over < SLOT + SECOND):
            early[number] = f"warned after {warned:.2f}s, over after {over:.2f}s"
    assert not early, (f"of a {SLOT}s slot with a warning {WARNING}s before its end, the "
                       f"warnings came at the wrong time: {early}")


async def test_the_chair_defers_a_case_with_its_reason(
        playground: PlaygroundClient, meeting_stack: Stack, meeting_db: AsyncEngine,
        meeting: Meeting) -> None:
    number = meeting.number(2)
    meeting.finished[number] = meeting_stack.now()

    reply = await said(playground, meeting_stack, CHRIS, "defer police research not back")

    assert re.fullmatch(rf"{number} is deferred to the meeting on Wednesday \d\d \w+: police "
                        r"research not back\. The chair opens the next case with \*\*next\*\*\.",
                        reply), reply
    assert (await case_state(meeting_db, number)).status is CaseStatus.LISTED  # elsewhere


# --- 4. case 3: exceptional ---------------------------------------------------------------

async def test_the_chair_marks_a_case_exceptional_and_no_action_is_taken(
        playground: PlaygroundClient, meeting_stack: Stack, meeting_db: AsyncEngine,
        meeting: Meeting) -> None:
    number = meeting.number(3)
    meeting.opened[number] = meeting_stack.now()
    [posted] = await command(playground, meeting_stack, CHRIS, "next")
    card = the_card(posted)
    assert card_texts(card)[0] == f"{number} · Chloe"
    card_id = meeting.case_cards[number] = posted["message"]["messageId"]

    reply = await said(playground, meeting_stack, CHRIS,
                       "exceptional moved victim has moved to Northshire")
    assert reply == (f"{number} is exceptional (the victim has moved out of the area "
                     "(MARAC-to-MARAC transfer)): its information is recorded and no actions "
                     "are planned.")

    refused = await press(playground, PRIYA, card_id, card, "case.action", **an_action())
    assert answered_sentence(refused) == "No action planning takes place for an exceptional case."
    assert await actions_stored(meeting_db, number) == 0
    details = answered_card(await press(playground, PRIYA, card_id, card, "case.view"))
    assert "Exceptional (moved): victim has moved to Northshire" in card_texts(details)


async def test_end_sums_up_the_meeting(
        playground: PlaygroundClient, meeting_stack: Stack, meeting: Meeting) -> None:
    number = meeting.number(3)
    meeting.finished[number] = meeting_stack.now()
    [posted] = await command(playground, meeting_stack, CHRIS, "end")

    card = the_card(posted)
    assert card_texts(card)[0] == "Riverside MARAC: meeting closed"
    summary = dict(facts_of(card))
    used = summary.pop("Time used")
    assert summary == {
        "Heard": meeting.number(1), "Deferred": meeting.number(2),
        "Exceptional": meeting.number(3), "Not reached": meeting.number(4),
        "Police": "1",
    }, summary
    assert "Actions agreed per agency" in card_texts(card)
    times = re.fullmatch(r"(\d+) min (\d+) s of (\d+) min (\d+) s planned", used)
    assert times, used
    minutes, seconds, planned_minutes, planned_seconds = map(int, times.groups())
    assert planned_minutes * 60 + planned_seconds == 3 * SLOT  # heard, deferred, exceptional
    spent = sum((meeting.finished[n] - meeting.opened[n]).total_seconds() for n in meeting.opened)
    assert abs(minutes * 60 + seconds - spent) <= 3 * SECOND, (used, spent)


# --- 5. over the whole meeting ------------------------------------------------------------

async def test_each_warning_was_posted_once_and_nothing_is_left_for_the_channel(
        meeting_playground: PlaygroundClient, meeting_db: AsyncEngine, meeting: Meeting
) -> None:
    client = meeting_playground
    warned = sorted(warning for f in client.frames if from_bot(CHANNEL)(f)
                    and (warning := slot_warning(f)) is not None)
    first, second = meeting.number(1), meeting.number(2)
    assert warned == [(first, False), (first, True), (second, False), (second, True)]
    left = await undelivered(meeting_db)
    assert not left, f"the outbox still holds messages for the channel: {left}"


@asynccontextmanager
async def held_connector(playground_port: int) -> AsyncIterator[HeldConnector]:
    """The Playground's connector behind a relay on 127.0.0.1 that passes every request on at
    once (so the Playground shows the message at once) and, while `hold` is set, keeps the
    Playground's answer to a slot warning back from the bot for that many seconds: a Teams
    that is slow to acknowledge a message it has already shown."""
    connector = HeldConnector(f"http://127.0.0.1:{playground_port}")
    async with aiohttp.ClientSession() as http:
        async def relay(request: web.Request) -> web.Response:
            headers = {k: v for k, v in request.headers.items()
                       if k.lower() not in ("host", "content-length")}
            sent = await request.read()
            async with http.request(request.method, connector.target + request.path_qs,
                                    headers=headers, data=sent) as answer:
                body = await answer.read()
                status, content_type = answer.status, answer.content_type
            if connector.hold and SLOT_WARNING.search(sent.decode("utf-8", "replace")):
                await asyncio.sleep(connector.hold)
            return web.Response(status=status, body=body, content_type=content_type)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", relay)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        connector.service_url = f"http://127.0.0.1:{port}/_connector"
        try:
            yield connector
        finally:
            await runner.cleanup()


@dataclass
class HeldConnector:
    target: str
    service_url: str = ""
    hold: float = 0.0


async def test_a_restart_during_a_delivery_leaves_nothing_to_be_posted_again(
        playground: PlaygroundClient, meeting_stack: Stack, meeting_db: AsyncEngine,
        meeting: Meeting) -> None:
    """At the next meeting (the one the deferred case went to), the channel's slot warnings
    go through a connector that is slow to acknowledge, and the bot is stopped as a warning
    has been shown, before Teams' answer reaches it."""
    number = meeting.number(2)  # deferred to this meeting
    installed = await playground.template(CHANNEL, "botAdded")
    await outbox_settled(meeting_db)
    async with held_connector(meeting_stack.playground_port) as connector:
        try:
            handled = meeting_stack.deliveries()
            await playground.send_activity({**installed, "serviceUrl": connector.service_url})
            await meeting_stack.wait_for_deliveries(handled + 1)
            agenda, _, _ = await command(playground, meeting_stack, CHRIS, "start", posts=3)
            assert (f"{number} · Bethan" in [value for _, value in facts_of(the_card(agenda))])
            since, opened = playground.mark(), meeting_stack.now()
            [posted] = await command(playground, meeting_stack, CHRIS, "next")
            assert card_texts(the_card(posted))[0] == f"{number} · Bethan", "\n".join(
                describe(f) for f in playground.frames[since - 30:])

            connector.hold = 1.5
            move_clock(meeting_stack, opened, SLOT - WARNING)
            await playground.wait_for(lambda f: slot_warning(f) == (number, False),
                                      since=since, what=f"the warning for {number}")
            await restart_bot(meeting_stack)  # Teams' answer is still held back
            connector.hold = 0
            # The restarted bot delivers what is due within a few ticks; a message the
            # stopped bot left leased would stay undelivered for its whole lease (2 minutes
            # of a clock that stands still: for ever).
            left = await warnings_left(meeting_db, within=10.0)
            assert not left, (
                "after the restart, the outbox still holds, leased, messages of the slot "
                f"warning the channel was shown (id, purpose, attempts, next attempt): {left}")
        finally:  # the channel's own connector again, for what the bot posts from now on
            connector.hold = 0
            handled = meeting_stack.deliveries()
            await playground.send_activity(installed)
            await meeting_stack.wait_for_deliveries(handled + 1)


async def test_the_chair_names_a_stand_in_and_admits_someone_to_a_closed_panel(
        playground: PlaygroundClient, meeting_stack: Stack, meeting_db: AsyncEngine,
        meeting: Meeting) -> None:
    """Names are stored encrypted: `standin` and `admit` find the person by first name (any
    case) among this MARAC's people, and refuse a name that matches no one."""
    number = meeting.number(2)  # open at the second meeting
    assert await said(playground, meeting_stack, IMOGEN, "pause") == (
        "Only a chair of this MARAC can use 'pause'; ask your coordinator if you need it.")
    assert await said(playground, meeting_stack, CHRIS, "standin imogen") == (
        "Imogen may now advance the agenda for the chair.")
    assert await said(playground, meeting_stack, IMOGEN, "pause") == (
        "The meeting is paused; the slot clock has stopped.")
    assert await said(playground, meeting_stack, IMOGEN, "resume") == "The meeting has resumed."

    assert await said(playground, meeting_stack, CHRIS, "admit Owen") == (
        "Admit people while a closed-panel case is open.")
    async with AsyncSession(meeting_db) as session:  # as an honour-based violence referral
        await session.execute(update(Case).where(Case.number == number)
                              .values(closed_panel=True))
        await session.commit()
    assert await said(playground, meeting_stack, CHRIS, "admit Owen") == (
        f"Owen is admitted to {number}.")
    assert await said(playground, meeting_stack, CHRIS, "admit Nobody") == (
        "Name one person of this MARAC by first name; 'Nobody' matches 0.")
    async with AsyncSession(meeting_db) as session:
        admitted = await session.scalar(select(Case.admitted_person_ids)
                                        .where(Case.number == number))
        [owen_aad] = [p.aad_object_id for p in DEMO_PEOPLE if p.full_name.startswith("Owen")]
        owen = await session.scalar(select(Person.id).where(Person.aad_object_id == owen_aad))
    assert admitted == [owen]


async def test_every_card_of_the_meeting_is_valid_for_teams(
        meeting_playground: PlaygroundClient, meeting: Meeting) -> None:
    client = meeting_playground
    posted = [(describe(frame), card) for frame in client.frames
              if frame.get("action") in ("createMessage", "updateMessage")
              for card in cards_of(frame)]
    answered = [(f"answer to a press: {' / '.join(card_texts(a['value']))[:200]!r}", a["value"])
                for a in client.invoke_answers if a.get("type") == ADAPTIVE_CARD]
    # The welcome, the agenda, attendance (posted, 4 updates), 3 case cards and the summary;
    # attendance answers (4), case answers.
    assert len(posted) >= 12 and len(answered) >= 10, (len(posted), len(answered))
    invalid = {where: problems for where, card in posted + answered
               if (problems := card_problems(card))}
    assert not invalid, (f"{len(invalid)} of {len(posted) + len(answered)} cards are not valid "
                         f"for Teams: {invalid}")
