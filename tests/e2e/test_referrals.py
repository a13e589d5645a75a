"""Referrals in, agenda out, through the Agents Playground, seen from two seats: Priya (an
agency representative, Police) at a Playground of her own, and Cara (the coordinator) at the
stack's main one (conftest.py).

Priya refers in her personal chat with the referral card (`Action.Execute` buttons: the HTTP
answer of a press is the refreshed card); Cara triages, accepts and finds the case on the
agenda; a low score is declined with its reason; bad input is refused with nothing stored and
a second press of submit stores nothing twice; the police feed arrives as a CSV file in
Cara's personal chat. What the bot stored is read back from the stack's database.

The tests of one backend share one bot, so they run in file order, and after
test_playground.py, whose agenda tests expect the demo meeting's four cases only (Erin is
listed at that meeting here); the check of every card seen comes last.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from dialogs.working_days import WorkingCalendar
from storage.crypto import blind_index
from tests.clock import pinned_now

from .conftest import Seats, Stack, free_port
from .playground_client import (
    ADAPTIVE_CARD,
    BOT_ID,
    CARA,
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
)
from .test_playground import card_problems, shown, the_card

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

LONDON = ZoneInfo("Europe/London")
CALENDAR = WorkingCalendar()  # England's bank holidays, as the demo MARAC has them
MEETING_WEEKDAY = 2  # Wednesday
MEETING_TIME = time(9, 30)
SLOT = timedelta(minutes=20)
DEMO_CASES = 4  # `marac demo` lists four cases at its meeting
FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"
FEED_COLUMNS = (  # the police export's header line
    "police_incident_ref", "incident_date", "received_on", "victim_first_name",
    "victim_reference", "victim_age_band", "children_in_household", "perpetrator_first_name",
    "referring_agency", "referrer_name", "area", "honour_based_violence", "dash_yes_count",
    "escalation", "escalation_detail", "professional_judgement", "rationale",
)


# --- dates --------------------------------------------------------------------------------

def london_today() -> date:
    """The demo MARAC's day on the stack's clock (it starts at the pinned instant, early
    enough in the day that the tests end on the same date)."""
    return pinned_now().astimezone(LONDON).date()


def demo_meeting_day(seeded_at: datetime) -> date:
    """The demo meeting: the first Wednesday at least two days after seeding."""
    day = seeded_at.astimezone(LONDON).date() + timedelta(days=2)
    return day + timedelta(days=(MEETING_WEEKDAY - day.weekday()) % 7)


def expected_meeting_day(received: date, now: datetime) -> date:
    """Where an accepted referral goes: the first meeting (a Wednesday that is a working day
    and has not started) from the start of its 7-to-14-working-day window on."""
    first, _ = CALENDAR.window(received, 7, 14)
    day = first + timedelta(days=(MEETING_WEEKDAY - first.weekday()) % 7)
    while (not CALENDAR.is_working_day(day)
           or datetime.combine(day, MEETING_TIME, LONDON) <= now):
        day += timedelta(days=7)
    return day


# --- cards --------------------------------------------------------------------------------

def inputs_of(card: Any) -> dict[str, str]:
    """Every input of the card with the value it shows ("" when empty), as Teams sends them
    with a press."""
    found: dict[str, str] = {}
    if isinstance(card, dict):
        if str(card.get("type", "")).startswith("Input.") and "id" in card:
            found[card["id"]] = str(card.get("value", ""))
        for value in card.values():
            found.update(inputs_of(value))
    elif isinstance(card, list):
        for item in card:
            found.update(inputs_of(item))
    return found


def checklist_keys(inputs: dict[str, str]) -> list[str]:
    return [key for key in inputs if re.fullmatch(r"q\d\d_\w+", key)]


def answers(keys: list[str], yes: int) -> dict[str, str]:
    """The DASH checklist answered: the first `yes` questions yes, the rest no."""
    return {key: "yes" if n < yes else "no" for n, key in enumerate(keys)}


def case_details(first_name: str, reference: str, received: date) -> dict[str, str]:
    return {
        "victim_first_name": first_name, "victim_reference": reference,
        "victim_age_band": "25-34", "children_in_household": "1",
        "perpetrator_first_name": "Mark", "area": "Riverside North",
        "incident_date": (received - timedelta(days=1)).isoformat(),
        "received_on": received.isoformat(),
    }


def triage_entries(card: Any, first_name: str) -> list[dict[str, Any]]:
    """The triage card's blocks for referrals of that first name."""
    found: list[dict[str, Any]] = []
    if isinstance(card, dict):
        items = card.get("items") or []
        if (card.get("type") == "Container" and items
                and str(items[0].get("text", "")).split(" · ")[0] == first_name):
            found.append(card)
        for value in card.values():
            found.extend(triage_entries(value, first_name))
    elif isinstance(card, list):
        for item in card:
            found.extend(triage_entries(item, first_name))
    return found


def buttons_of(card: Any) -> dict[str, dict[str, Any]]:
    """The card's `Action.Execute` buttons by title."""
    found: dict[str, dict[str, Any]] = {}
    if isinstance(card, dict):
        if card.get("type") == "Action.Execute":
            found[card["title"]] = card
        for value in card.values():
            found.update(buttons_of(value))
    elif isinstance(card, list):
        for item in card:
            found.update(buttons_of(item))
    return found


def answered_card(answer: dict[str, Any]) -> dict[str, Any]:
    assert answer.get("type") == ADAPTIVE_CARD, f"the press was answered without a card: {answer}"
    card: dict[str, Any] = answer["value"]
    return card


# --- what people do -----------------------------------------------------------------------

def from_bot_in(conversation_id: str) -> Any:
    return lambda frame: (is_message(frame) and conversation_of(frame) == conversation_id
                          and (frame["message"].get("from") or {}).get("id") == BOT_ID)


async def ask(client: PlaygroundClient, user: str, command: str) -> Frame:
    """The seat's own user types a command in their personal chat; the bot's reply."""
    chat = client.config["personalChat"]["id"]
    since = client.mark()
    await client.say(chat, user, command)
    return await client.wait_for(from_bot_in(chat), since=since, what=f"reply to {command!r}")


async def press(client: PlaygroundClient, user: str, card_message: str, button: dict[str, Any],
                inputs: dict[str, str]) -> dict[str, Any]:
    """The user presses a button of a card in their personal chat: Teams sends the button's
    data with the card's inputs. The answer: the card the bot shows instead."""
    chat = client.config["personalChat"]["id"]
    data = {**inputs, **button.get("data", {})}
    return answered_card(await client.invoke(chat, user, card_message, button["verb"], data))


async def referral_card(priya: PlaygroundClient) -> tuple[str, dict[str, Any]]:
    """Priya types `refer`: the card's message id and the card."""
    frame = await ask(priya, PRIYA, "refer")
    card = the_card(frame)
    assert "Refer a case to the MARAC" in shown(card)
    assert set(buttons_of(card)) == {"Count yes answers", "Submit referral"}
    return frame["message"]["messageId"], card


async def submit(priya: PlaygroundClient, card_message: str, card: dict[str, Any],
                 values: dict[str, str]) -> dict[str, Any]:
    return await press(priya, PRIYA, card_message, buttons_of(card)["Submit referral"],
                       {**inputs_of(card), **values})


async def triage(cara: PlaygroundClient) -> tuple[str, dict[str, Any]]:
    frame = await ask(cara, CARA, "triage")
    card = the_card(frame)
    assert card_texts(card)[0] == "Triage"
    return frame["message"]["messageId"], card


async def stored(db: AsyncEngine, victim_reference: str) -> list[str]:
    """The statuses of the referrals stored for a victim, oldest first (found by the keyed
    index: the reference itself is stored encrypted)."""
    async with db.connect() as connection:
        rows = await connection.execute(
            text("SELECT status FROM referral WHERE victim_index = :index ORDER BY id"),
            {"index": blind_index(victim_reference)})
        return [row.status for row in rows]


# --- 1 and 2: a referral from a representative, triaged onto the agenda ------------------

async def test_a_representatives_referral_is_accepted_onto_the_agenda(
        seat: Seats, playground: PlaygroundClient, e2e_stack: Stack, e2e_db: AsyncEngine
) -> None:
    priya = await seat("priya")
    now = e2e_stack.now()
    demo_day = demo_meeting_day(e2e_stack.seeded_at)
    # Received 7 working days before the demo meeting, which opens its window: a referral
    # received today is heard after the next meeting, and `agenda` shows the next one only.
    received = CALENDAR.before(demo_day, 7)

    card_message, form = await referral_card(priya)
    shown_inputs = inputs_of(form)
    assert shown_inputs["referring_agency"] == "Police"  # Priya's own agency, filled in
    assert shown_inputs["referrer_name"] == "Priya"
    assert shown_inputs["received_on"] == london_today().isoformat()
    keys = checklist_keys(shown_inputs)
    assert len(keys) == 24

    # Part-way through the checklist, she counts: 9 yes of the 12 answered so far.
    details = case_details("Erin", "RIV-V-0101", received)
    partly = {**shown_inputs, **details, **answers(keys[:12], yes=9)}
    counted = await press(priya, PRIYA, card_message, buttons_of(form)["Count yes answers"],
                          partly)
    assert "**9 of 24** answered yes so far (14 or more is visible high risk)." in shown(counted)
    kept = inputs_of(counted)
    assert {key: kept[key] for key in details} == details, "the counted card lost her typing"
    assert (kept[keys[0]], kept[keys[11]], kept[keys[12]]) == ("yes", "no", "")

    summary = await submit(priya, card_message, counted, {**kept, **answers(keys, yes=15)})
    said = card_texts(summary)
    assert said[0] == "Referral for Erin"
    assert "Received: it meets the criteria and waits for triage." in said
    assert "Heard: 15 of 24 answers were yes (14 needed)." in said
    assert {("Reference", "RIV-V-0101"), ("DASH", "15 of 24 yes"),
            ("Referring agency", "Police"), ("Received", received.isoformat()),
            ("Closed panel", "no")} <= set(facts_of(summary))

    # Cara triages it.
    triage_message, triage_card = await triage(playground)
    [entry] = triage_entries(triage_card, "Erin")
    assert {("Reference", "RIV-V-0101"), ("Received", received.isoformat()),
            ("From", "Police"), ("DASH", "15 of 24 yes"),
            ("Qualifies by", "visible high risk")} <= set(facts_of(entry))
    buttons = buttons_of(entry)
    assert set(buttons) == {"Accept", "Decline", "Needs more information"}
    accepted = await press(playground, CARA, triage_message, buttons["Accept"],
                           inputs_of(triage_card))

    meeting_day = expected_meeting_day(received, now)
    earlier_cases = DEMO_CASES if meeting_day == demo_day else 0
    numbered = DEMO_CASES if meeting_day.year == e2e_stack.seeded_at.year else 0
    number = f"RIV-{meeting_day.year}-{numbered + 1:03d}"
    assert (f"Accepted: Erin is listed as {number} for the meeting on "
            f"{meeting_day:%A %d %B} at 09:30.") in card_texts(accepted)
    assert not triage_entries(accepted, "Erin"), "the accepted referral still waits for triage"
    assert await stored(e2e_db, "RIV-V-0101") == ["accepted"]

    agenda = card_texts(the_card(await ask(playground, CARA, "agenda")))
    next_meeting = min(demo_day, meeting_day)
    assert agenda[0] == f"Riverside MARAC: {next_meeting:%A %d %B %Y}, 09:30"
    starts = (datetime.combine(meeting_day, MEETING_TIME) + earlier_cases * SLOT)
    line = f"{starts:%H:%M} · {number} · Erin"
    if meeting_day == next_meeting:
        assert line in agenda, f"{line!r} is not on the agenda: {agenda}"
        assert agenda[agenda.index(line) + 1] == "visible high risk"
    else:  # the demo meeting fell on a bank holiday: the case waits for a later agenda
        assert not any("Erin" in said for said in agenda)


# --- 3: a low score is declined -----------------------------------------------------------

async def test_a_low_score_is_declined_with_its_reason_and_not_triaged(
        seat: Seats, playground: PlaygroundClient, e2e_db: AsyncEngine) -> None:
    priya = await seat("priya")
    card_message, form = await referral_card(priya)
    keys = checklist_keys(inputs_of(form))

    summary = await submit(priya, card_message, form, {
        **case_details("Freya", "RIV-V-0102", london_today()), **answers(keys, yes=5)})
    said = card_texts(summary)
    assert said[0] == "Referral for Freya"
    assert "Not listed for the MARAC: it is recorded as standard risk." in said
    assert ("Declined: 5 of 24 answers were yes (14 needed), with no escalation, repeat or "
            "professional judgement recorded.") in said
    assert ("DASH", "5 of 24 yes") in facts_of(summary)

    _, triage_card = await triage(playground)
    assert not triage_entries(triage_card, "Freya"), "a declined referral is in triage"
    assert await stored(e2e_db, "RIV-V-0102") == ["declined"]


# --- 4: bad input, and pressing submit twice ----------------------------------------------

async def test_professional_judgement_without_a_rationale_is_refused_and_nothing_stored(
        seat: Seats, playground: PlaygroundClient, e2e_db: AsyncEngine) -> None:
    priya = await seat("priya")
    card_message, form = await referral_card(priya)
    keys = checklist_keys(inputs_of(form))
    values = {**case_details("Gwen", "RIV-V-0103", london_today()), **answers(keys, yes=5),
              "professional_judgement": "true", "rationale": ""}

    refused = await submit(priya, card_message, form, values)
    assert "Professional judgement needs a written rationale." in card_texts(refused)
    assert "Refer a case to the MARAC" in shown(refused), "the card is not given back"
    kept = inputs_of(refused)
    assert {key: kept[key] for key in values} == values, "the card given back lost her typing"
    assert await stored(e2e_db, "RIV-V-0103") == []
    _, triage_card = await triage(playground)
    assert not triage_entries(triage_card, "Gwen")

    # With the rationale, the same card goes through; pressed again, it stores nothing more.
    values["rationale"] = "She has been threatened again since the DASH was completed."
    first = await submit(priya, card_message, refused, values)
    assert "Heard: professional judgement is recorded with a rationale." in card_texts(first)
    assert "Received: it meets the criteria and waits for triage." in card_texts(first)
    second = await submit(priya, card_message, refused, values)
    assert second == first
    assert await stored(e2e_db, "RIV-V-0103") == ["pending"]


async def test_a_double_click_on_submit_stores_one_referral(
        seat: Seats, e2e_stack: Stack, e2e_db: AsyncEngine, request: pytest.FixtureRequest
) -> None:
    """Both presses arrive before either is answered, as a double click sends them."""
    priya = await seat("priya")
    card_message, form = await referral_card(priya)
    keys = checklist_keys(inputs_of(form))
    values = {**case_details("Hana", "RIV-V-0104", london_today()), **answers(keys, yes=16)}

    pressed = await asyncio.gather(submit(priya, card_message, form, values),
                                   submit(priya, card_message, form, values),
                                   return_exceptions=True)
    assert await stored(e2e_db, "RIV-V-0104") == ["pending"]
    failed = [str(answer) for answer in pressed if isinstance(answer, BaseException)]
    assert not failed, f"a press of the double click was not answered with a card: {failed}"
    first, second = pressed
    assert first == second
    assert card_texts(first)[0] == "Referral for Hana"


# --- 5: the police feed -------------------------------------------------------------------

@pytest_asyncio.fixture(loop_scope="session")
async def feed_files() -> AsyncIterator[tuple[str, dict[str, bytes]]]:
    """A small file server on 127.0.0.1 standing in for Teams' file storage: the base URL,
    and the files it serves by name."""
    files: dict[str, bytes] = {}

    async def serve(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in files:
            raise web.HTTPNotFound()
        return web.Response(body=files[name], content_type="text/csv")

    app = web.Application()
    app.router.add_get("/{name}", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", files
    finally:
        await runner.cleanup()


def feed_row(incident: str, first_name: str, reference: str, received: date, yes: int,
             incident_date: str | None = None) -> dict[str, str]:
    return {
        "police_incident_ref": incident,
        "incident_date": incident_date or (received - timedelta(days=2)).isoformat(),
        "received_on": received.isoformat(), "victim_first_name": first_name,
        "victim_reference": reference, "victim_age_band": "35-44",
        "children_in_household": "0", "perpetrator_first_name": "Dean",
        "referring_agency": "Police", "referrer_name": "PC Lee", "area": "Riverside South",
        "honour_based_violence": "false", "dash_yes_count": str(yes), "escalation": "false",
        "escalation_detail": "", "professional_judgement": "false", "rationale": "",
    }


def feed_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FEED_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


async def send_feed(cara: PlaygroundClient, base_url: str, name: str) -> dict[str, Any]:
    """Cara sends the file in her personal chat, as Teams delivers a file to a bot: a message
    whose attachment carries a download link. The bot's answer."""
    since = cara.mark()
    await cara.send_message(PERSONAL_CHAT, CARA, attachments=[{
        "contentType": FILE_DOWNLOAD_INFO, "name": name,
        "content": {"downloadUrl": f"{base_url}/{name}", "uniqueId": str(uuid.uuid4()),
                    "fileType": "csv"},
    }])
    frame = await cara.wait_for(from_bot_in(PERSONAL_CHAT), since=since,
                                what=f"the answer to {name}")
    return the_card(frame)


def report_counts(card: dict[str, Any]) -> dict[str, str]:
    return {title: value for title, value in facts_of(card) if not title.startswith("Line ")}


async def test_the_police_feed_is_imported_cleansed_and_reported(
        playground: PlaygroundClient, e2e_db: AsyncEngine,
        feed_files: tuple[str, dict[str, bytes]]) -> None:
    base_url, files = feed_files
    today = london_today()
    received = CALENDAR.before(today, 1)

    files["police-feed-monday.csv"] = feed_csv([
        feed_row("INC-26-0001", "Isla", "PF-0201", received, yes=15)])
    earlier = await send_feed(playground, base_url, "police-feed-monday.csv")
    assert report_counts(earlier)["Waiting for triage"] == "1", shown(earlier)

    files["police-feed.csv"] = feed_csv([
        feed_row("INC-26-0002", "Jade", "PF-0202", received, yes=15),       # line 2
        feed_row("INC-26-0003", "Kira", "PF-0203", today, yes=16),          # line 3
        feed_row("INC-26-0001", "Isla", "PF-0201", received, yes=15),       # line 4: linked
        feed_row("INC-26-0004", "Jade", "PF-0202", today, yes=14),          # line 5: Jade again
        feed_row("INC-26-0005", "Lena", "PF-0205", today, yes=15,
                 incident_date="31/11/2026"),                               # line 6: bad date
    ])
    report = await send_feed(playground, base_url, "police-feed.csv")
    assert card_texts(report)[0] == "Police feed: police-feed.csv"
    assert report_counts(report) == {
        "Rows read": "5", "Loaded": "3", "Waiting for triage": "2",
        "Declined (below the criteria)": "0",
        "Possible duplicates to confirm": "1", "Linked to an incident already listed": "1",
        "Refused": "1"}
    lines = {title: value for title, value in facts_of(report) if title.startswith("Line ")}
    assert set(lines) == {"Line 4", "Line 6"}, lines
    assert lines["Line 4"] == "incident INC-26-0001, already referral PF-0201"
    assert re.fullmatch(r"The incident date [^\n]*'31/11/2026'[^\n]*\.", lines["Line 6"]), (
        f"the bad row is not explained in a plain sentence: {lines['Line 6']!r}")
    assert await stored(e2e_db, "PF-0201") == ["pending"]  # linked, not stored again
    assert await stored(e2e_db, "PF-0202") == ["pending", "possible_duplicate"]
    assert await stored(e2e_db, "PF-0205") == []

    # Triage asks Cara whether Jade's second row is the same matter.
    triage_message, triage_card = await triage(playground)
    jade = triage_entries(triage_card, "Jade")
    assert len(jade) == 2, shown(triage_card)
    [duplicate] = [e for e in jade if ("Possible duplicate of", "PF-0202") in facts_of(e)]
    buttons = buttons_of(duplicate)
    assert set(buttons) == {"Same matter", "Separate matter"}
    assert triage_entries(triage_card, "Isla") and triage_entries(triage_card, "Kira")

    merged = await press(playground, CARA, triage_message, buttons["Same matter"],
                         inputs_of(triage_card))
    assert "Linked PF-0202 to the referral it repeats." in card_texts(merged)
    assert len(triage_entries(merged, "Jade")) == 1
    assert await stored(e2e_db, "PF-0202") == ["pending", "merged"]


# --- 6: every card ------------------------------------------------------------------------

async def test_every_card_of_the_referrals_is_valid_for_teams(
        seats: Seats, playground: PlaygroundClient) -> None:
    priya = await seats("priya")
    posted = [(describe(frame), card) for client in (priya, playground)
              for frame in client.frames if is_message(frame) for card in cards_of(frame)]
    answered = [(f"answer to a press: {' / '.join(card_texts(a['value']))[:200]!r}", a["value"])
                for client in (priya, playground) for a in client.invoke_answers
                if a.get("type") == ADAPTIVE_CARD]
    assert len(answered) >= 9, f"only {len(answered)} cards seen in answers to presses"
    invalid = {where: problems for where, card in posted + answered
               if (problems := card_problems(card))}
    assert not invalid, (f"{len(invalid)} of {len(posted) + len(answered)} cards are not valid "
                         f"for Teams: {invalid}")
