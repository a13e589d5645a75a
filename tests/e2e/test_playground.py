"""The bot as Teams users meet it, through Microsoft's Agents Playground: installation and
its welcome (once per conversation), `help` for each role, `agenda` in the channel and in
personal chat, mistyped commands, every command `help` offers, and every card the bot
posted checked against what Teams accepts.

The tests of one backend share one bot and one Playground (conftest.py), so they run in
file order: the installation tests come first (the channel is welcomed only once per
database), the check of every card seen comes last.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from adaptive_cards.card import AdaptiveCard
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from dialogs.demo import DEMO_MARAC
from dialogs.referrals import read_form, submit
from storage.models import Conversation, Marac
from tests.cards_check import charts_of, teams_findings
from tests.store.referral_factory import card_payload

from .conftest import Stack
from .playground_client import (
    CARA,
    CHANNEL,
    CHRIS,
    GROUP_CHAT,
    IMOGEN,
    OLU,
    OWEN,
    PERSONAL_CHAT,
    PRIYA,
    Frame,
    PlaygroundClient,
    Predicate,
    card_texts,
    cards_of,
    conversation_of,
    describe,
    facts_of,
    in_conversation,
    is_message,
    text_of,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

QUIET_PERIOD = 2.0  # how long to watch for a message that must not come


def posted_in(conversation_id: str) -> Predicate:
    """A new post in the conversation itself (not a reply in one of its threads)."""
    return lambda frame: is_message(frame) and conversation_of(frame) == conversation_id


def reply_to(sent: dict[str, Any], conversation_id: str) -> Predicate:
    """The bot's answer to a message: in a channel, in that message's thread."""
    where = sent.get("postConversationId") or conversation_id
    return lambda frame: is_message(frame) and conversation_of(frame) == where


def the_card(frame: Frame) -> dict[str, Any]:
    cards = cards_of(frame)
    assert len(cards) == 1, f"expected one Adaptive Card, got: {describe(frame)}"
    return cards[0]


def shown(card: dict[str, Any]) -> str:
    return "\n".join(card_texts(card))


def messages_in(client: PlaygroundClient, conversation_id: str) -> list[Frame]:
    return [f for f in client.frames_since() if is_message(f)
            and in_conversation(conversation_id)(f)]


async def assert_single_welcome(client: PlaygroundClient, conversation_id: str) -> None:
    await asyncio.sleep(QUIET_PERIOD)
    posted = messages_in(client, conversation_id)
    assert len(posted) == 1, (
        f"expected exactly one welcome in {conversation_id}, the bot posted {len(posted)}:\n"
        + "\n".join(describe(f) for f in posted))


def roles_named(card: dict[str, Any]) -> list[str]:
    """The roles a help card says the person holds ("You are chair, observer in ...")."""
    said = re.search(r"You are (.+?) in this MARAC", shown(card))
    assert said, f"the card does not say who the person is: {shown(card)!r}"
    return re.split(r", | and ", said.group(1))


# --- installation -------------------------------------------------------------------------

async def test_installing_in_the_marac_channel_welcomes_it_once(
        playground: PlaygroundClient, e2e_stack: Stack) -> None:
    added = await playground.template(CHANNEL, "botAdded")
    await playground.send_activity(added)

    welcome = the_card(await playground.wait_for(posted_in(CHANNEL), what="welcome"))
    text = shown(welcome)
    assert "Riverside MARAC" in text
    assert "**help**" in text

    # Teams redelivers, and sends both conversationUpdate and installationUpdate on install.
    handled = e2e_stack.deliveries()
    await playground.send_activity(added)
    await playground.send_activity(await playground.template(CHANNEL, "botAdded"))
    install = await playground.template(CHANNEL, "install")
    assert (install["type"], install.get("action")) == ("installationUpdate", "add")
    await playground.send_activity(install)
    await e2e_stack.wait_for_deliveries(handled + 3)
    await assert_single_welcome(playground, CHANNEL)


async def test_installing_in_personal_chat_welcomes_the_person(
        playground: PlaygroundClient) -> None:
    await playground.send_activity(await playground.template(PERSONAL_CHAT, "install"))

    welcome = the_card(await playground.wait_for(posted_in(PERSONAL_CHAT), what="welcome"))
    assert "**help**" in shown(welcome)
    assert "I run the Riverside MARAC here." in shown(welcome)  # Cara's own MARAC


async def test_installing_in_a_chat_no_marac_owns_says_so_once_and_keeps_nothing(
        playground: PlaygroundClient, e2e_stack: Stack, e2e_db: AsyncEngine) -> None:
    install = await playground.template(GROUP_CHAT, "install")
    added = await playground.template(GROUP_CHAT, "botAdded")
    handled = e2e_stack.deliveries()
    await asyncio.gather(playground.send_activity(install), playground.send_activity(added))

    said = await playground.wait_for(posted_in(GROUP_CHAT), what="not set up")
    assert "I am not set up in this conversation and keep nothing from it" in text_of(said)
    assert "**register**" in text_of(said)
    await e2e_stack.wait_for_deliveries(handled + 2)
    await assert_single_welcome(playground, GROUP_CHAT)  # one answer, not one per event
    assert await stored_conversation(e2e_db, GROUP_CHAT) is None


async def stored_conversation(db: AsyncEngine, conversation_id: str) -> int | None | str:
    """The MARAC a stored conversation belongs to; "none" if stored without one."""
    async with db.connect() as connection:
        row = (await connection.execute(
            select(Conversation.marac_id).where(
                Conversation.conversation_id == conversation_id))).first()
    return None if row is None else (row[0] or "none")


async def test_removing_and_installing_again_welcomes_again(
        playground: PlaygroundClient, e2e_stack: Stack) -> None:
    handled = e2e_stack.deliveries()
    await playground.send_activity(await playground.template(PERSONAL_CHAT, "uninstall"))
    await e2e_stack.wait_for_deliveries(handled + 1)  # removed before it is added again
    await playground.send_activity(await playground.template(PERSONAL_CHAT, "install"))

    welcome = the_card(await playground.wait_for(posted_in(PERSONAL_CHAT), what="welcome"))
    assert "**help**" in shown(welcome)


# --- help ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("user", "role"), [
    (CARA, "coordinator"),
    (CHRIS, "chair"),
    (OLU, "operations manager"),
    (PRIYA, "agency representative"),
    (IMOGEN, "agency representative"),
    (OWEN, "observer"),
], ids=["Cara", "Chris", "Olu", "Priya", "Imogen", "Owen"])
async def test_help_in_the_channel_lists_the_commands_and_names_the_role(
        playground: PlaygroundClient, user: str, role: str) -> None:
    sent = await playground.say(CHANNEL, user, "help", mention_bot=True)

    card = the_card(await playground.wait_for(reply_to(sent, CHANNEL), what="help reply"))
    assert {"help", "agenda"} <= {title for title, _ in facts_of(card)}
    assert role in roles_named(card)
    assert "channel" in shown(card)


async def test_help_in_personal_chat_lists_the_commands(playground: PlaygroundClient) -> None:
    sent = await playground.say(PERSONAL_CHAT, CARA, "help")

    card = the_card(await playground.wait_for(reply_to(sent, PERSONAL_CHAT),
                                              what="help reply"))
    assert {"help", "agenda"} <= {title for title, _ in facts_of(card)}
    assert "coordinator" in roles_named(card)
    assert "personal chat" in shown(card)


# --- mistyped commands --------------------------------------------------------------------

@pytest.mark.parametrize(("where", "mention"), [(CHANNEL, True), (PERSONAL_CHAT, False)],
                         ids=["channel", "personal"])
async def test_a_mistyped_command_is_answered_with_the_nearest_one(
        playground: PlaygroundClient, where: str, mention: bool) -> None:
    sent = await playground.say(where, CARA, "agnda", mention_bot=mention)

    reply = await playground.wait_for(reply_to(sent, where), what="reply to 'agnda'")
    assert not cards_of(reply)
    assert "agnda" in text_of(reply)
    assert "**agenda**" in text_of(reply)
    assert "**help**" in text_of(reply)


@pytest.mark.parametrize(("where", "mention"), [(CHANNEL, True), (PERSONAL_CHAT, False)],
                         ids=["channel", "personal"])
async def test_a_nonsense_word_is_answered_with_help(
        playground: PlaygroundClient, where: str, mention: bool) -> None:
    sent = await playground.say(where, OWEN if where == CHANNEL else CARA, "xyzzy",
                                mention_bot=mention)

    reply = await playground.wait_for(reply_to(sent, where), what="reply to 'xyzzy'")
    assert not cards_of(reply)
    assert "xyzzy" in text_of(reply)
    assert "**help**" in text_of(reply)
    assert "Did you mean" not in text_of(reply)


# --- agenda -------------------------------------------------------------------------------

DEMO_CASES = ("Amy", "Bethan", "Chloe", "Dina")  # dialogs/demo.py, slots 1 to 4


def demo_case_lines(year: int) -> list[str]:
    return [f"RIV-{year}-{slot:03d} · {name}" for slot, name in enumerate(DEMO_CASES, 1)]


def assert_agenda_heading(card: dict[str, Any]) -> None:
    heading = card_texts(card)[0]
    assert re.fullmatch(r"Riverside MARAC: Wednesday \d\d \w+ \d{4}, 09:30", heading), heading


async def test_agenda_in_the_channel_shows_case_numbers_and_first_names_only(
        playground: PlaygroundClient, e2e_stack: Stack) -> None:
    sent = await playground.say(CHANNEL, OWEN, "agenda", mention_bot=True)

    card = the_card(await playground.wait_for(reply_to(sent, CHANNEL), what="agenda"))
    assert_agenda_heading(card)
    facts = facts_of(card)
    assert [value for _, value in facts] == demo_case_lines(e2e_stack.seeded_at.year)
    times = [title for title, _ in facts]
    assert times[0] == "09:30"
    assert all(re.fullmatch(r"\d\d:\d\d", t) for t in times), times
    assert times == sorted(times), times
    # A shared channel is told nothing else about the cases.
    extra = set(card_texts(card)[1:]) - set(times) - set(demo_case_lines(
        e2e_stack.seeded_at.year)) - {"Closed panel"}
    assert not extra, f"the channel agenda shows more than case numbers and first names: {extra}"


async def test_agenda_in_personal_chat_shows_the_persons_marac(
        playground: PlaygroundClient, e2e_stack: Stack) -> None:
    sent = await playground.say(PERSONAL_CHAT, CARA, "agenda")

    card = the_card(await playground.wait_for(reply_to(sent, PERSONAL_CHAT), what="agenda"))
    assert_agenda_heading(card)
    text = shown(card)
    for line in demo_case_lines(e2e_stack.seeded_at.year):
        assert line in text


async def test_every_command_in_help_answers_in_personal_chat(
        playground: PlaygroundClient) -> None:
    """Whatever the command table holds, each command Cara is offered answers her."""
    sent = await playground.say(PERSONAL_CHAT, CARA, "help")
    card = the_card(await playground.wait_for(reply_to(sent, PERSONAL_CHAT), what="help"))
    names = [usage.split()[0] for usage, _ in facts_of(card)]
    assert "agenda" in names
    for name in names:
        since = playground.mark()
        await playground.say(PERSONAL_CHAT, CARA, name)
        reply = await playground.wait_for(reply_to({}, PERSONAL_CHAT), since=since,
                                          what=f"reply to {name!r}")
        assert "something went wrong" not in text_of(reply), f"{name!r}: {describe(reply)}"
        assert cards_of(reply) or text_of(reply), f"{name!r}: empty reply"


# --- a conversation no MARAC owns ---------------------------------------------------------

async def test_agenda_in_a_chat_no_marac_owns_says_it_is_not_set_up(
        playground: PlaygroundClient) -> None:
    sent = await playground.say(GROUP_CHAT, CARA, "agenda", mention_bot=True)

    reply = await playground.wait_for(reply_to(sent, GROUP_CHAT), what="reply to 'agenda'")
    assert "Only a" not in text_of(reply)
    assert "not registered to a MARAC" in text_of(reply)


async def test_only_a_coordinator_may_register_a_chat(
        playground: PlaygroundClient, e2e_db: AsyncEngine) -> None:
    sent = await playground.say(GROUP_CHAT, PRIYA, "register", mention_bot=True)

    reply = await playground.wait_for(reply_to(sent, GROUP_CHAT), what="reply to 'register'")
    assert "Only a coordinator of this MARAC can use 'register'" in text_of(reply), describe(reply)
    assert await stored_conversation(e2e_db, GROUP_CHAT) is None


async def test_a_coordinator_registers_a_chat_and_the_bot_then_works_there(
        playground: PlaygroundClient, e2e_db: AsyncEngine) -> None:
    sent = await playground.say(GROUP_CHAT, CARA, "register", mention_bot=True)

    welcome = the_card(await playground.wait_for(reply_to(sent, GROUP_CHAT), what="welcome"))
    assert "I run the Riverside MARAC here." in shown(welcome)
    assert await stored_conversation(e2e_db, GROUP_CHAT) not in (None, "none")

    since = playground.mark()
    again = await playground.say(GROUP_CHAT, CARA, "register", mention_bot=True)
    reply = await playground.wait_for(reply_to(again, GROUP_CHAT), since=since,
                                      what="reply to 'register'")
    assert text_of(reply) == "This conversation is already the Riverside MARAC's."

    since = playground.mark()
    asked = await playground.say(GROUP_CHAT, PRIYA, "agenda", mention_bot=True)
    agenda = the_card(await playground.wait_for(reply_to(asked, GROUP_CHAT), since=since,
                                                what="agenda"))
    assert "RIV-" in shown(agenda)


# --- the MARAC's figures -------------------------------------------------------------------

async def test_report_answers_the_coordinator_with_the_figures_and_a_chart(
        playground: PlaygroundClient, e2e_stack: Stack, e2e_db: AsyncEngine) -> None:
    today = e2e_stack.seeded_at.date()
    async with AsyncSession(e2e_db) as session, session.begin():
        marac = await session.scalar(select(Marac).where(Marac.name == DEMO_MARAC))
        assert marac is not None
        await submit(session, marac, read_form(card_payload(
            15, victim_reference="RIV-V-E2E", received_on=today.isoformat(),
            incident_date=today.isoformat()), today), None, e2e_stack.seeded_at)

    sent = await playground.say(PERSONAL_CHAT, CARA, f"report {today.year}")
    card = the_card(await playground.wait_for(reply_to(sent, PERSONAL_CHAT), what="report"))
    assert "Riverside MARAC: figures" in shown(card)
    assert [chart["type"] for chart in charts_of(card)] == ["Chart.Pie"]  # referrals
    assert not card_problems(card)


# --- every card ---------------------------------------------------------------------------

def card_problems(card: dict[str, Any]) -> list[str]:
    if charts_of(card):  # Teams' chart elements: adaptive-cards-py does not model them
        return teams_findings(card)
    try:
        model = AdaptiveCard.model_validate(card)
    except ValueError as error:  # pydantic's ValidationError
        return [f"not an Adaptive Card adaptive-cards-py can read: {error}"]
    problems = teams_findings(model)
    # The validator checks the model, so anything the model dropped would go unchecked.
    again = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    if again != card:
        problems.append(f"does not round-trip through adaptive-cards-py: sent {card}, "
                        f"read back {again}")
    return problems


async def test_every_card_the_bot_posted_is_valid_for_teams(
        playground: PlaygroundClient) -> None:
    sent = await playground.say(CHANNEL, CHRIS, "help", mention_bot=True)
    await playground.wait_for(reply_to(sent, CHANNEL), what="help reply")

    cards = [(frame, card) for frame in playground.frames if is_message(frame)
             for card in cards_of(frame)]
    # Welcomes (channel, personal twice, group chat), help (7 or more), agenda (2).
    assert len(cards) >= 13, f"only {len(cards)} cards seen"
    invalid = {describe(frame): problems for frame, card in cards
               if (problems := card_problems(card))}
    assert not invalid, f"{len(invalid)} of {len(cards)} cards are not valid for Teams: {invalid}"
