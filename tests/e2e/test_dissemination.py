"""The plan after the meeting, through the Agents Playground, on a stack of its own
(conftest.py's `dissemination_stack`: slots longer than the test, the timer runner waking often).

Imogen (IDVA Service) has never written to the bot: the demo's Teams id for her is cleared
before the bot is installed in the MARAC channel, and the bot learns it from the team's roster
(the Playground serves it), so that the case list, four working days before the meeting, and
after it the plan and her action card, reach her own personal chat, each once.

A short meeting in the MARAC channel: Chris (chair) starts it, Priya (Police) and Imogen (IDVA
Service) confirm attendance, case 1 is opened; Priya shares information and takes an action,
Imogen takes one, Chris gives one to Probation (which has not signed the information sharing
agreement) and names Imogen to update the victim; `next` closes it and opens case 2, whose
victim contact Chris names too, and `end` closes case 2 and the meeting. Then the timer runner
disseminates: each representative's plan card and action card arrive in their own personal
chat, Probation gets nothing (and Cara is told), Priya acknowledges her action and lists it with
`my actions`, Imogen cannot complete hers (Cara, the coordinator, and Olu, the operations
manager, are told; the plan gets a new version), Cara's `dissemination` shows every plan
delivered against its 48-hour deadline, and Owen (observer) is refused `plan CASE`.

Every person with a seat has a Playground of their own (the Playground shows one user's
personal chat only): Cara at the stack's, Priya, Imogen, Olu and Owen at theirs. Teams has one
connector for them all, so the bot is installed in the channel through `TeamsConnector`, a
fake of that connector that passes each request on to the Playground of the person it is for,
and keeps what is sent to people with no Playground: Sam (Children's Social Care, whom the
demo seeds without a Teams id) and Pat (a Probation representative added here), who each open
a chat with the bot once, as the bot asks of people it cannot reach yet.

The tests of one backend share the meeting, in file order, so a failure early on fails the rest.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from dialogs.circulation import case_list_due_at
from dialogs.clock import set_clock
from dialogs.demo import DEMO_MARAC, DEMO_PEOPLE, DEMO_TENANT
from storage.models import (
    ActionFollowUp,
    ActionStatus,
    Agency,
    AgencyInformation,
    Case,
    Conversation,
    DeliveryKind,
    Dissemination,
    MailMessage,
    Marac,
    Meeting,
    OutboxMessage,
    Person,
    PlanDelivery,
    PlanVersion,
)
from tests.clock import PATIENCE

from .conftest import MARAC, Stack, connected, database_of, free_port, start_seats
from .playground_client import (
    ADAPTIVE_CARD,
    BOT_ID,
    BOT_NAME,
    CHANNEL,
    CHRIS,
    IMOGEN,
    OLU,
    OWEN,
    PERSONAL_CHAT,
    PRIYA,
    Frame,
    PlaygroundClient,
    card_texts,
    cards_of,
    conversation_of,
    describe,
    facts_of,
    is_message,
    text_of,
)
from .test_meeting import (
    an_action,
    answered_card,
    command,
    find_button,
    press,
)
from .test_playground import card_problems, shown, the_card

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

LONDON = ZoneInfo("Europe/London")
DEADLINE = timedelta(hours=48)
# Before the meeting the timer circulates the case list and the reminders, on the days the
# stack's pinned instant makes them due (any day, with MARAC_TEST_CLOCK): this module is
# about what follows the meeting, so it leaves them out of what it counts.
BEFORE_THE_MEETING = ("case list", "information reminder")


CASE_LIST = "Riverside MARAC: case list for "


def is_case_list(heading: str) -> bool:
    return heading.startswith(CASE_LIST)
QUIET_PERIOD = 1.0  # how long to watch for a message that must not come
SEATS = {"priya": PRIYA, "imogen": IMOGEN, "olu": OLU, "owen": OWEN}


@dataclass(frozen=True)
class Unseated:
    """Someone with no Playground: their Teams id, and the chat they open with the bot."""

    teams_id: str
    name: str
    aad_object_id: str

    @property
    def chat(self) -> str:
        return f"a:personal-{self.teams_id}"


IMOGEN_AAD = next(p.aad_object_id for p in DEMO_PEOPLE if p.full_name == "Imogen Reid")
SAM = Unseated("29:sam-carter", "Sam Carter", "0d3a1c00-0000-4000-8000-000000000006")
PAT = Unseated("29:pat-probation", "Pat Doyle", "0d3a1c00-0000-4000-8000-000000000008")


# --- Teams' one connector in front of several Playgrounds ---------------------------------

@dataclass
class Kept:
    """A message to someone with no Playground, as Teams would have shown it to them."""

    member: str
    conversation: str
    activity: dict[str, Any]


@dataclass
class TeamsConnector:
    """The Bot Connector service the bot is given (as `serviceUrl`): a relay on 127.0.0.1 that
    passes each request on to the Playground of the person it is for (a new 1:1 conversation
    by its member, anything else by its conversation), the channel's and Cara's to the
    stack's own Playground; what is for someone with no Playground is kept here and answered
    as Teams answers."""

    main: int  # the stack's Playground port
    seats: dict[str, int]  # Teams user id: their Playground's port
    unseated: dict[str, str] = field(default_factory=dict)  # their chat: their Teams id
    conversations: dict[str, int | None] = field(default_factory=dict)  # None: kept here
    opened_with: list[str] = field(default_factory=list)  # each 1:1 conversation's member
    kept: list[Kept] = field(default_factory=list)
    service_url: str = ""

    def route(self, conversation: str) -> int | None:
        if conversation in self.unseated:
            return None
        return self.conversations.get(conversation, self.main)

    def kept_for(self, person: Unseated) -> list[Kept]:
        return [k for k in self.kept if k.member == person.teams_id]

    def headings(self, person: Unseated) -> list[str]:
        """The heading of each card sent to the person, in order."""
        return [(card_texts(a["content"]) or [""])[0] for k in self.kept_for(person)
                for a in k.activity.get("attachments") or []
                if a.get("contentType") == ADAPTIVE_CARD]

    async def wait_for(self, person: Unseated, heading: str, timeout: float = PATIENCE  # noqa: ASYNC109
                       ) -> None:
        deadline = time.monotonic() + timeout
        while heading not in self.headings(person):
            assert time.monotonic() < deadline, (
                f"{person.name} was not sent {heading!r} within {timeout:g}s; they were sent: "
                f"{self.headings(person)}")
            await asyncio.sleep(0.05)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def connector(dissemination_stack: Stack, seated: dict[str, PlaygroundClient]
                    ) -> AsyncIterator[TeamsConnector]:
    teams = TeamsConnector(
        main=dissemination_stack.playground_port,
        seats={SEATS[name]: int(client.base_url.rsplit(":", 1)[1])
               for name, client in seated.items()},
        unseated={p.chat: p.teams_id for p in (SAM, PAT)})
    created = re.compile(r"/_connector/v3/conversations/?")
    in_conversation = re.compile(r"/_connector/v3/conversations/([^/]+)(/.*)?")

    async with aiohttp.ClientSession() as http:
        async def forward(request: web.Request, port: int, body: bytes) -> web.Response:
            headers = {k: v for k, v in request.headers.items()
                       if k.lower() not in ("host", "content-length")}
            async with http.request(request.method, f"http://127.0.0.1:{port}{request.path_qs}",
                                    headers=headers, data=body) as answer:
                return web.Response(status=answer.status, body=await answer.read(),
                                    content_type=answer.content_type)

        async def relay(request: web.Request) -> web.Response:
            body = await request.read()
            if created.fullmatch(request.path) and request.method == "POST":
                asked = json.loads(body)
                if asked.get("isGroup"):
                    return await forward(request, teams.main, body)
                member = asked["members"][0]["id"]
                teams.opened_with.append(member)
                chat = next((c for c, who in teams.unseated.items() if who == member), None)
                if chat is not None:
                    return web.json_response({"id": chat})
                port = teams.seats.get(member, teams.main)
                answer = await forward(request, port, body)
                if answer.status < 300 and answer.body:
                    teams.conversations[json.loads(answer.body)["id"]] = port
                return answer
            found = in_conversation.fullmatch(request.path)
            if found is None:
                return await forward(request, teams.main, body)
            conversation = unquote(found.group(1))
            port = teams.route(conversation)
            if port is None:
                teams.kept.append(Kept(teams.unseated[conversation], conversation,
                                       json.loads(body) if body else {}))
                return web.json_response({"id": str(uuid.uuid4())})
            return await forward(request, port, body)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", relay)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        teams.service_url = f"http://127.0.0.1:{port}/_connector"
        try:
            yield teams
        finally:
            await runner.cleanup()


# --- the people and what they see ----------------------------------------------------------

@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def cara(dissemination_stack: Stack) -> AsyncIterator[PlaygroundClient]:
    """The stack's Playground: Cara's seat, which sees the channel and her personal chat."""
    async with connected(dissemination_stack.playground_port) as client:
        yield client


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def seated(dissemination_stack: Stack) -> AsyncIterator[dict[str, PlaygroundClient]]:
    """Priya's, Imogen's, Olu's and Owen's seats: each a Playground of their own."""
    clients = await start_seats(dissemination_stack, *SEATS)
    try:
        yield clients
    finally:
        for client in clients.values():
            await client.close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def db(dissemination_stack: Stack) -> AsyncIterator[AsyncEngine]:
    async with database_of(dissemination_stack) as engine:
        yield engine


@dataclass(frozen=True)
class AfterMeeting:
    """What one backend's tests have seen so far."""

    year: int
    pat_id: int  # Pat's Person id

    def number(self, slot: int) -> str:
        return f"RIV-{self.year}-{slot:03d}"


def from_bot_in(conversation_id: str) -> Any:
    return lambda frame: (frame.get("action") == "createMessage"
                          and conversation_of(frame) == conversation_id
                          and (frame["message"].get("from") or {}).get("id") == BOT_ID)


def personal_chat(client: PlaygroundClient) -> str:
    return str(client.config["personalChat"]["id"])


def headed(heading: str) -> Any:
    """A message whose one card starts with that heading."""
    def matches(frame: Frame) -> bool:
        cards = cards_of(frame)
        return len(cards) == 1 and (card_texts(cards[0]) or [""])[0] == heading
    return matches


async def received(client: PlaygroundClient, heading: str, timeout: float = PATIENCE  # noqa: ASYNC109
                   ) -> Frame:
    """The card with that heading the bot sent to the seat's own personal chat."""
    chat = personal_chat(client)
    is_it = headed(heading)
    return await client.wait_for(lambda f: from_bot_in(chat)(f) and is_it(f), since=0,
                                 timeout=timeout, what=f"{heading!r} in {chat}")


async def ask(client: PlaygroundClient, text: str) -> Frame:
    """The seat's own user types in their personal chat; the bot's reply."""
    chat = personal_chat(client)
    since = client.mark()
    await client.say(chat, client.current_user, text)
    return await client.wait_for(from_bot_in(chat), since=since, what=f"the reply to {text!r}")


async def press_in_chat(client: PlaygroundClient, message_id: str, card: dict[str, Any],
                        verb: str, **values: str) -> dict[str, Any]:
    """The seat's own user presses the `verb` button of a card in their personal chat, having
    filled in `values`; the bot's invoke answer."""
    button, shown_inputs = find_button(card, verb)
    unknown = set(values) - set(shown_inputs)
    assert not unknown, f"the card has no inputs {unknown} for {verb!r}: {shown_inputs}"
    data = {**shown_inputs, **values, **button.get("data", {})}
    return await client.invoke(personal_chat(client), client.current_user, message_id, verb,
                               data)


async def opens_a_chat(stack: Stack, teams: TeamsConnector, person: Unseated) -> None:
    """Someone with no Playground writes to the bot once, as Teams would deliver it."""
    now = stack.now().isoformat(timespec="milliseconds").replace("+00:00", "Z")
    activity = {
        "type": "message", "id": str(uuid.uuid4()), "timestamp": now, "localTimestamp": now,
        "channelId": "msteams", "serviceUrl": teams.service_url,
        "from": {"id": person.teams_id, "name": person.name,
                 "aadObjectId": person.aad_object_id},
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "conversation": {"id": person.chat, "conversationType": "personal",
                         "tenantId": DEMO_TENANT},
        "channelData": {"tenant": {"id": DEMO_TENANT}}, "text": "help", "textFormat": "plain",
        "locale": "en-GB", "entities": [{"type": "clientInfo", "locale": "en-GB"}],
    }
    async with aiohttp.ClientSession() as http, http.post(
            f"http://127.0.0.1:{stack.bot_port}/api/messages", json=activity) as answer:
        assert answer.status in (200, 201), f"HTTP {answer.status}: {await answer.text()}"
    assert teams.kept_for(person), f"{person.name} was not answered"


def add_person(stack: Stack, person: Unseated, role: str, agency: str) -> None:
    done = subprocess.run(
        [str(MARAC), "add-person", "--marac", DEMO_MARAC, "--tenant", DEMO_TENANT,
         "--aad-object-id", person.aad_object_id, "--first-name", person.name.split()[0],
         "--role", role, "--agency", agency],
        cwd=stack.workdir, env=stack.env(),
        capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def after(dissemination_stack: Stack, cara: PlaygroundClient, db: AsyncEngine,
                connector: TeamsConnector) -> AfterMeeting:
    """The bot installed in the MARAC channel through Teams' connector; Pat added as Probation's
    representative; Sam and Pat have each written to the bot once."""
    stack = dissemination_stack
    async with AsyncSession(db) as session, session.begin():  # Imogen never wrote to the bot
        await session.execute(update(Person).where(Person.aad_object_id == IMOGEN_AAD)
                              .values(teams_user_id=None))
    since = cara.mark()
    installed = await cara.template(CHANNEL, "botAdded")
    await cara.send_activity({**installed, "serviceUrl": connector.service_url})
    welcome = the_card(await cara.wait_for(from_bot_in(CHANNEL), since=since, what="welcome"))
    assert "Riverside MARAC" in shown(welcome)
    async with AsyncSession(db) as session:
        installed_in = (await session.execute(
            select(Conversation.conversation_id, Conversation.service_url))).all()
    # The bot opens a 1:1 chat through the connector of a conversation it is installed in.
    assert [tuple(row) for row in installed_in] == [(CHANNEL, connector.service_url)]
    deadline = time.monotonic() + 10  # the roster is read once the welcome is out
    while True:
        async with AsyncSession(db) as session:
            learnt_from_roster = await session.scalar(select(Person.teams_user_id).where(
                Person.aad_object_id == IMOGEN_AAD))
        if learnt_from_roster == IMOGEN:
            break
        assert time.monotonic() < deadline, "Imogen's Teams id was not read from the roster"
        await asyncio.sleep(0.05)

    await asyncio.to_thread(add_person, stack, PAT, "agency_representative", "Probation")
    for person in (SAM, PAT):
        await opens_a_chat(stack, connector, person)
    async with AsyncSession(db) as session:
        rows = await session.execute(
            select(Person.aad_object_id, Person.teams_user_id)
            .where(Person.aad_object_id.in_([SAM.aad_object_id, PAT.aad_object_id])))
        learnt = {aad: teams_id for aad, teams_id in rows}
        pat_id = await session.scalar(select(Person.id).where(
            Person.aad_object_id == PAT.aad_object_id))
    assert learnt == {SAM.aad_object_id: SAM.teams_id, PAT.aad_object_id: PAT.teams_id}
    assert pat_id is not None
    return AfterMeeting(year=stack.seeded_at.year, pat_id=pat_id)


# --- the store ----------------------------------------------------------------------------

async def case_id(db: AsyncEngine, number: str) -> int:
    async with AsyncSession(db) as session:
        found = await session.scalar(select(Case.id).where(Case.number == number))
    assert found is not None, number
    return found


async def follow_up_of(db: AsyncEngine, follow_up: int) -> Any:
    async with AsyncSession(db) as session:
        return (await session.execute(
            select(ActionFollowUp.status, ActionFollowUp.note, ActionFollowUp.acknowledged_at,
                   ActionFollowUp.closed_at).where(ActionFollowUp.id == follow_up))).one()


async def messages_to(db: AsyncEngine, first_name: str) -> list[Any]:
    """The outbox's messages to one person, oldest first."""
    async with AsyncSession(db) as session:
        people = [p.id for p in (await session.scalars(select(Person))).all()
                  if p.first_name == first_name]  # encrypted: compared once decrypted
        return list((await session.execute(
            select(OutboxMessage.purpose, OutboxMessage.delivered_at, OutboxMessage.last_error)
            .where(OutboxMessage.person_id.in_(people),
                   OutboxMessage.purpose.not_in(BEFORE_THE_MEETING))
            .order_by(OutboxMessage.id))).all())


async def wait_until_delivered(db: AsyncEngine, timeout: float = PATIENCE) -> None:  # noqa: ASYNC109
    """Until the outbox holds nothing undelivered of what follows the meeting."""
    deadline = time.monotonic() + timeout
    while True:
        async with AsyncSession(db) as session:
            left = list((await session.execute(
                select(OutboxMessage.id, OutboxMessage.purpose, OutboxMessage.person_id,
                       OutboxMessage.attempts, OutboxMessage.last_error)
                .where(OutboxMessage.delivered_at.is_(None),
                       OutboxMessage.purpose.not_in(BEFORE_THE_MEETING)))).all())
        if not left:
            return
        assert time.monotonic() < deadline, f"the outbox still holds undelivered: {left}"
        await asyncio.sleep(0.1)


# --- 1. before the meeting ----------------------------------------------------------------

def case_list_in(client: PlaygroundClient) -> list[str]:
    chat = personal_chat(client)
    return [card_texts(c)[0] for f in client.frames if from_bot_in(chat)(f)
            for c in cards_of(f) if card_texts(c)[0].startswith(CASE_LIST)]


async def test_a_member_who_never_wrote_receives_the_case_list_four_working_days_ahead(
        dissemination_stack: Stack, seated: dict[str, PlaygroundClient], db: AsyncEngine,
        after: AfterMeeting) -> None:
    stack, imogen = dissemination_stack, seated["imogen"]
    async with AsyncSession(db) as session:
        marac = await session.scalar(select(Marac))
        meeting = await session.scalar(select(Meeting))
        assert marac is not None and meeting is not None
        due = case_list_due_at(marac, meeting)
    assert stack.now() < due, "the stack starts before the case list is due"
    assert not case_list_in(imogen)
    set_clock(stack.clock_file, due + timedelta(minutes=1))
    chat = personal_chat(imogen)
    await imogen.wait_for(lambda f: from_bot_in(chat)(f) and bool(case_list_in_frame(f)),
                          since=0, timeout=15, what="the case list in Imogen's chat")
    await wait_until_delivered(db)
    await asyncio.sleep(QUIET_PERIOD)
    assert len(case_list_in(imogen)) == 1, case_list_in(imogen)


def case_list_in_frame(frame: Frame) -> list[str]:
    return [t for c in cards_of(frame) for t in card_texts(c)[:1] if t.startswith(CASE_LIST)]


# --- 2. a short meeting -------------------------------------------------------------------

def an_idva_action(**changes: str) -> dict[str, str]:
    return an_action(agency="IDVA Service", owner="Imogen",
                     description="Agree a safety plan with Amy", risk="Isolation", **changes)


def a_probation_action() -> dict[str, str]:
    return an_action(agency="Probation", owner="Pat", for_whom="perpetrator",
                     description="Check the licence conditions of the perpetrator",
                     risk="Breach of bail")


async def probation_sent_research(db: AsyncEngine, number: str, now: datetime) -> None:
    """Probation, absent, returned its research form to the coordinator: its systems flagged."""
    async with AsyncSession(db) as session, session.begin():
        probation = await session.scalar(select(Agency.id).where(Agency.name == "Probation"))
        case_id = await session.scalar(select(Case.id).where(Case.number == number))
        assert probation is not None and case_id is not None
        session.add(AgencyInformation(case_id=case_id, agency_id=probation, not_involved=True,
                                      text="Not involved: systems flagged.",
                                      sent_at=now))


async def test_a_short_meeting_agrees_a_plan(
        cara: PlaygroundClient, dissemination_stack: Stack, db: AsyncEngine,
        after: AfterMeeting) -> None:
    stack, first = dissemination_stack, after.number(1)
    _, attendance, _ = await command(cara, stack, CHRIS, "start", posts=3)
    card_id = attendance["message"]["messageId"]
    card = the_card(attendance)
    for user, agency in ((PRIYA, "Police"), (IMOGEN, "IDVA Service")):
        card = answered_card(await press(cara, user, card_id, card, "attendance.confirm",
                                         role="agency_representative", agency=agency))
    assert dict(facts_of(card)) == {"Police": "Priya", "IDVA Service": "Imogen"}

    [opened] = await command(cara, stack, CHRIS, "next")
    case_card = the_card(opened)
    assert card_texts(case_card)[0] == f"{first} · Amy"
    card_id = opened["message"]["messageId"]
    answered_card(await press(
        cara, PRIYA, card_id, case_card, "case.information",
        information="Two callouts to the address this month; the perpetrator is on bail.",
        not_involved="false"))
    answered_card(await press(cara, PRIYA, card_id, case_card, "case.action", **an_action()))
    answered_card(await press(cara, IMOGEN, card_id, case_card, "case.action",
                              **an_idva_action()))
    # the chair agrees actions only for agencies present or sending research
    await probation_sent_research(db, first, dissemination_stack.now())
    answered_card(await press(cara, CHRIS, card_id, case_card, "case.action",
                              **a_probation_action()))
    details = answered_card(await press(cara, CHRIS, card_id, case_card, "case.contact",
                                        victim_contact="Imogen"))
    assert "Updates the victim: Imogen" in card_texts(details)

    closed, following = await command(cara, stack, CHRIS, "next", posts=2)
    assert text_of(closed).startswith(f"Planning for {first} is closed;"), text_of(closed)
    bethan = the_card(following)
    assert card_texts(bethan)[0] == f"{after.number(2)} · Bethan"
    answered_card(await press(cara, CHRIS, following["message"]["messageId"], bethan,
                              "case.contact", victim_contact="Priya"))
    [summary] = await command(cara, stack, CHRIS, "end")
    assert card_texts(the_card(summary))[0] == "Riverside MARAC: meeting closed"

    async with AsyncSession(db) as session:
        closed_cases = (await session.scalars(select(Case.number).where(
            Case.closed_at.is_not(None)).order_by(Case.number))).all()
    assert closed_cases == [first, after.number(2)]


# --- 3. dissemination -----------------------------------------------------------------------

async def test_every_entitled_representative_receives_the_plan_in_personal_chat(
        seated: dict[str, PlaygroundClient], connector: TeamsConnector, db: AsyncEngine,
        after: AfterMeeting) -> None:
    first, second = after.number(1), after.number(2)
    for name in ("priya", "imogen"):
        client = seated[name]
        plan = the_card(await received(client, f"MARAC action plan {first} · Amy"))
        facts = facts_of(plan)
        assert ("Police", "Two callouts to the address this month; the perpetrator is on "
                "bail.") in facts
        actions = [value for title, value in facts if title in ("Police", "IDVA Service",
                                                                 "Probation")]
        assert any(a.startswith(an_action()["description"]) for a in actions), actions
        assert any(a.startswith(an_idva_action()["description"]) for a in actions), actions
        assert "Updates the victim: Imogen" in card_texts(plan)
        await received(client, f"MARAC action plan {second} · Bethan")

    # Sam, of Children's Social Care, a core agency, has it too, in his own chat.
    for heading in (f"MARAC action plan {first} · Amy", f"MARAC action plan {second} · Bethan"):
        await connector.wait_for(SAM, heading)

    # In the store: each plan went to Police's, IDVA Service's and Children's Social Care's
    # representatives, and was delivered to each.
    await wait_until_delivered(db)
    async with AsyncSession(db) as session:
        names = {p.id: p.first_name for p in (await session.scalars(select(Person))).all()}
        sent = (await session.execute(
            select(Case.number, PlanDelivery.person_id, OutboxMessage.delivered_at)
            .join(Dissemination, Dissemination.case_id == Case.id)
            .join(PlanDelivery, PlanDelivery.dissemination_id == Dissemination.id)
            .join(OutboxMessage, OutboxMessage.id == PlanDelivery.outbox_id))).all()
    assert sorted((number, names[person], delivered is not None)
                  for number, person, delivered in sent) == [
        (number, name, True) for number in (first, second)
        for name in ("Imogen", "Priya", "Sam")]

    # Each has each card once; nobody without an agency's seat at the table gets the plan
    # (the observer, the operations manager).
    await asyncio.sleep(QUIET_PERIOD)
    for name in ("priya", "imogen"):
        chat = personal_chat(seated[name])
        headings = [card_texts(c)[0] for f in seated[name].frames
                    if from_bot_in(chat)(f) for c in cards_of(f)]
        assert sorted(h for h in headings if h.startswith("MARAC action plan")) == [
            f"MARAC action plan {first} · Amy", f"MARAC action plan {second} · Bethan"]
        assert len([h for h in headings if h.startswith("Action for")]) == 1, headings
    assert len(case_list_in(seated["imogen"])) == 1  # still once
    assert [h for h in connector.headings(SAM) if not is_case_list(h)] == [
        "What you can do here", f"MARAC action plan {first} · Amy",
        f"MARAC action plan {second} · Bethan"]
    for name in ("olu", "owen"):
        plans = [describe(f) for f in seated[name].frames
                 if is_message(f) and any("action plan" in t for c in cards_of(f)
                                          for t in card_texts(c)[:1])]
        assert not plans, f"{name} was sent a plan: {plans}"


async def test_each_action_owner_receives_their_action_card(
        seated: dict[str, PlaygroundClient], after: AfterMeeting) -> None:
    first = after.number(1)
    for name, agency, action in (("priya", "Police", an_action()),
                                 ("imogen", "IDVA Service", an_idva_action())):
        card = the_card(await received(seated[name], f"Action for {agency}: {first} · Amy"))
        assert action["description"] in card_texts(card)
        assert ("Status", "not yet acknowledged") in facts_of(card)
        buttons = {b.get("title") for b in card.get("actions", [])}
        assert buttons == {"Acknowledge", "Done", "Cannot complete"}, buttons


async def test_a_withheld_agency_receives_nothing_and_the_coordinator_is_told(
        cara: PlaygroundClient, db: AsyncEngine, connector: TeamsConnector,
        after: AfterMeeting) -> None:
    first = after.number(1)
    notice = await cara.wait_for(
        lambda f: from_bot_in(PERSONAL_CHAT)(f) and f"The plan for {first}" in text_of(f),
        since=0, what="the coordinator told what was withheld")
    assert text_of(notice) == (
        f"The plan for {first} is going out. Not sent:\n\n"
        "- Probation: has not signed the information sharing agreement\n\n"
        "Actions whose owners cannot be sent their card: Probation: "
        f"{a_probation_action()['description']}")
    await wait_until_delivered(db)

    async with AsyncSession(db) as session:
        probation = await session.scalar(select(Agency.id).where(Agency.name == "Probation"))
        its_people = (await session.scalars(select(Person.id).where(
            Person.agency_id == probation))).all()
        to_probation = (await session.scalars(select(OutboxMessage.purpose).where(
            OutboxMessage.person_id.in_(its_people)))).all()
        deliveries = (await session.execute(
            select(PlanDelivery.kind, PlanDelivery.person_id, PlanDelivery.outbox_id,
                   PlanDelivery.mail_id, PlanDelivery.note)
            .where(PlanDelivery.agency_id == probation))).all()
        mails = await session.scalar(select(func.count()).select_from(MailMessage))
    assert its_people == [after.pat_id]
    assert to_probation == [], f"the outbox holds messages to Probation: {to_probation}"
    assert [(d.kind, d.person_id, d.outbox_id, d.mail_id) for d in deliveries] == [
        (DeliveryKind.WITHHELD, None, None, None)], deliveries
    assert mails == 0
    # Nor did anything reach him: he had only the answer to his own message.
    assert PAT.teams_id not in connector.opened_with
    assert len(connector.kept_for(PAT)) == 1


# --- 4. the owners answer -----------------------------------------------------------------

async def test_an_owner_acknowledges_her_action(
        seated: dict[str, PlaygroundClient], db: AsyncEngine, after: AfterMeeting) -> None:
    priya = seated["priya"]
    frame = await received(priya, f"Action for Police: {after.number(1)} · Amy")
    card = the_card(frame)
    button, _ = find_button(card, "action.acknowledge")
    follow_up = int(button["data"]["follow_up"])

    answer = answered_card(await press_in_chat(priya, frame["message"]["messageId"], card,
                                               "action.acknowledge"))

    assert ("Status", "acknowledged") in facts_of(answer)
    assert {b.get("title") for b in answer.get("actions", [])} == {"Done", "Cannot complete"}
    state = await follow_up_of(db, follow_up)
    assert state.status is ActionStatus.ACKNOWLEDGED and state.acknowledged_at is not None
    again = answered_card(await press_in_chat(priya, frame["message"]["messageId"], card,
                                              "action.acknowledge"))
    assert again == answer
    assert (await follow_up_of(db, follow_up)).acknowledged_at == state.acknowledged_at


async def test_my_actions_lists_the_owners_open_action(
        seated: dict[str, PlaygroundClient], after: AfterMeeting) -> None:
    listed = the_card(await ask(seated["priya"], "my actions"))
    assert card_texts(listed)[0] == "Your open actions"
    due = datetime.fromisoformat(an_action()["due_on"]).strftime("%d %b")
    [(title, value)] = facts_of(listed)
    assert title == f"{after.number(1)} · due {due}"
    assert re.fullmatch(rf"{re.escape(an_action()['description'])} \(acknowledged; action "
                        r"\d+\)", value), value


async def test_an_action_that_cannot_be_completed_tells_the_coordinator_and_the_manager(
        cara: PlaygroundClient, seated: dict[str, PlaygroundClient], db: AsyncEngine,
        after: AfterMeeting) -> None:
    imogen, olu, first = seated["imogen"], seated["olu"], after.number(1)
    frame = await received(imogen, f"Action for IDVA Service: {first} · Amy")
    message_id, card = frame["message"]["messageId"], the_card(frame)
    button, _ = find_button(card, "action.cannot")
    follow_up = int(button["data"]["follow_up"])
    cara_since, olu_since = cara.mark(), olu.mark()

    refused = answered_card(await press_in_chat(imogen, message_id, card, "action.cannot",
                                                reason="  "))
    assert "Say why the action cannot be completed." in card_texts(refused)
    assert (await follow_up_of(db, follow_up)).status is ActionStatus.OPEN

    reason = "Amy has moved to a refuge out of the area and no longer has an IDVA here"
    answer = answered_card(await press_in_chat(imogen, message_id, card, "action.cannot",
                                               reason=reason))
    assert ("Status", f"cannot be completed: {reason}") in facts_of(answer)
    assert not answer.get("actions"), "a closed action still has its buttons"
    state = await follow_up_of(db, follow_up)
    assert (state.status, state.note) == (ActionStatus.CANNOT_COMPLETE, reason)

    told = (f"Imogen says an action on {first} cannot be completed: IDVA Service: "
            f"{an_idva_action()['description']} — because: {reason}. The plan is updated; the "
            "operations manager decides on follow-up.")
    for client in (cara, olu):
        chat = personal_chat(client)
        seen = await client.wait_for(lambda f, c=chat: from_bot_in(c)(f) and "cannot be "
                                     "completed" in text_of(f),
                                     since=cara_since if client is cara else olu_since,
                                     what=f"the notice in {chat}")
        assert text_of(seen) == told
    # Pressed again, nothing is done twice.
    again = answered_card(await press_in_chat(imogen, message_id, card, "action.cannot",
                                              reason=reason))
    assert again == answer
    await wait_until_delivered(db)
    # What Cara and Olu were sent after the meeting: acknowledging told nobody.
    told_by_outbox = {name: [(m.purpose, m.delivered_at is not None)
                             for m in await messages_to(db, name)] for name in ("Cara", "Olu")}
    assert told_by_outbox == {
        "Cara": [("dissemination withheld", True), ("action cannot be completed", True)],
        "Olu": [("action cannot be completed", True)]}, told_by_outbox
    # Her one action is closed: she has none open.
    assert "You have no open actions." in card_texts(the_card(await ask(imogen, "my actions")))

    # The plan is kept current: a new version, saying who changed what and why.
    plan = the_card(await ask(seated["priya"], f"plan {first}"))
    assert card_texts(plan)[0] == f"Plan {first} · Amy"
    assert re.fullmatch(rf"Version 2 of 2, .+, by Imogen: Action cannot be completed: "
                        rf"{an_idva_action()['description']} {reason}", card_texts(plan)[1]), (
        card_texts(plan)[1])
    async with AsyncSession(db) as session:
        versions = (await session.scalars(select(PlanVersion.version).where(
            PlanVersion.case_id == await case_id(db, first)).order_by(PlanVersion.version))
        ).all()
    assert versions == [1, 2]


# --- 5. the coordinator's view and the 48 hours -------------------------------------------

def london(instant: datetime) -> str:
    return instant.astimezone(LONDON).strftime("%a %d %b %Y, %H:%M")


async def test_dissemination_shows_every_plan_delivered_against_the_deadline(
        cara: PlaygroundClient, db: AsyncEngine, after: AfterMeeting) -> None:
    await wait_until_delivered(db)
    async with AsyncSession(db) as session:
        ended_at = await session.scalar(select(Meeting.ended_at).where(
            Meeting.ended_at.is_not(None)))
        rows = (await session.execute(
            select(Case.number, Dissemination.deadline_at, Dissemination.id)
            .join(Dissemination, Dissemination.case_id == Case.id)
            .order_by(Case.number))).all()
        delivered = {}
        for number, _, dissemination in rows:
            delivered[number] = await session.scalar(
                select(func.max(OutboxMessage.delivered_at))
                .join(PlanDelivery, PlanDelivery.outbox_id == OutboxMessage.id)
                .where(PlanDelivery.dissemination_id == dissemination))
    assert ended_at is not None
    assert [(n, d) for n, d, _ in rows] == [(after.number(1), ended_at + DEADLINE),
                                           (after.number(2), ended_at + DEADLINE)]

    card = the_card(await ask(cara, "dissemination"))
    said_on_card = card_texts(card)
    assert said_on_card[0] == "Dissemination"
    for number, name, withheld in ((after.number(1), "Amy", 1), (after.number(2), "Bethan", 0)):
        at = said_on_card.index(f"{number} · {name}")
        done = delivered[number]
        assert done is not None
        assert abs(done - ended_at) < timedelta(minutes=1), (done, ended_at)
        inside = ended_at + DEADLINE - done
        minutes = int(inside.total_seconds() // 60)
        assert said_on_card[at + 1] == (
            f"3 sent · 0 pending · 0 failed · {withheld} withheld · every agency had it "
            f"{london(done)}, {minutes // 60} h {minutes % 60:02d} min inside the deadline")
    facts = facts_of(card)
    assert facts == [
        ("Police", "delivered"), ("IDVA Service", "delivered"),
        ("Children's Social Care", "delivered"),
        ("Probation", "withheld: has not signed the information sharing agreement"),
        ("Police", "delivered"), ("IDVA Service", "delivered"),
        ("Children's Social Care", "delivered"),
    ], facts


# --- 6. who may not see it ----------------------------------------------------------------

async def test_an_observer_asking_for_a_plan_is_refused_politely(
        seated: dict[str, PlaygroundClient], after: AfterMeeting) -> None:
    reply = await ask(seated["owen"], f"plan {after.number(1)}")
    assert not cards_of(reply), f"the observer was answered with a card: {describe(reply)}"
    sentence = text_of(reply)
    assert re.fullmatch(r"[A-Z][^\n]*\.", sentence), sentence
    for private in ("Amy", "Police", "IDVA", "Imogen", "Priya", "licence", "safety plan"):
        assert private not in sentence, f"the refusal shows {private!r}: {sentence!r}"


async def test_an_observers_refusal_says_why_and_does_not_deny_his_role(
        seated: dict[str, PlaygroundClient], after: AfterMeeting) -> None:
    sentence = text_of(await ask(seated["owen"], f"plan {after.number(1)}"))
    assert "someone with a role in this MARAC" not in sentence, sentence
    assert "observer" in sentence.lower(), sentence


# --- 7. every card ------------------------------------------------------------------------

async def test_every_card_is_valid_for_teams(
        cara: PlaygroundClient, seated: dict[str, PlaygroundClient],
        connector: TeamsConnector, after: AfterMeeting) -> None:
    clients = [cara, *seated.values()]
    posted = [(describe(frame), card) for client in clients for frame in client.frames
              if is_message(frame) for card in cards_of(frame)]
    posted += [(f"to {k.member}: {' / '.join(card_texts(a['content']))[:200]!r}", a["content"])
               for k in connector.kept for a in k.activity.get("attachments") or []
               if a.get("contentType") == ADAPTIVE_CARD]
    answered = [(f"answer to a press: {' / '.join(card_texts(a['value']))[:200]!r}", a["value"])
                for client in clients for a in client.invoke_answers
                if a.get("type") == ADAPTIVE_CARD]
    # Plans (2 each to Priya, Imogen and Sam), action cards (2), my actions, plan, the
    # dissemination view, the meeting's cards; the answers to the owners' presses.
    assert len(posted) >= 15 and len(answered) >= 4, (len(posted), len(answered))
    invalid = {where: problems for where, card in posted + answered
               if (problems := card_problems(card))}
    assert not invalid, (f"{len(invalid)} of {len(posted) + len(answered)} cards are not valid "
                         f"for Teams: {invalid}")
