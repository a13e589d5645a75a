"""Statements a meeting press costs (issue 21): each press of the meeting's busiest buttons,
the chair's `next`, a typed `help` and the referral form's count are served in a budget of
SQL statements, counted on the real database
by an SQLAlchemy event listener, so that a change that adds a look-up to a press fails here
rather than in the benchmark. Transaction boundaries (BEGIN, COMMIT) are not counted: SQLite
sends its BEGIN IMMEDIATE as a statement and PostgreSQL does not, and both count the same
work."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any

import pytest
from botbuilder.schema import Activity
from sqlalchemy import event, func, select, update

from dialogs.demo import DEMO_PEOPLE, DEMO_TEAM, DEMO_TENANT
from storage import crypto
from storage.database import Store
from storage.models import Attendance, Base, Case, CaseStatus, Meeting, PlannedAction
from tests.store.meeting_factory import next_case, started
from tests.store.test_closed_panel import an_action, press_in_channel
from tests.turns import handle_card_action, handle_message

CHRIS, PRIYA = DEMO_PEOPLE[1], DEMO_PEOPLE[3]
BUDGET = {"attendance": 6, "action": 6, "next": 6, "help": 3, "referral.count": 2}
# Values decrypted by `next`: the closed case's victim contact (it must be named), the
# opened case's first name (its card shows it) and the first names of those present (the
# plan's collective responsibility); nothing else of either case.
NEXT_DECRYPTS = 4
NOT_COUNTED = ("BEGIN", "COMMIT", "ROLLBACK")


@contextmanager
def heard(target: Any, name: str, note: Any, **options: Any) -> Iterator[list[str]]:
    """What `note` makes of each SQLAlchemy event `name` on `target` inside the block (None
    is not kept)."""
    kept: list[str] = []

    def listener(*arguments: Any) -> None:
        noted = note(*arguments)
        if noted is not None:
            kept.append(noted)

    event.listen(target, name, listener, **options)
    try:
        yield kept
    finally:
        event.remove(target, name, listener)


def statements(store: Store) -> Any:
    """Every statement sent to the database inside the block, in order."""
    return heard(store.engine.sync_engine, "before_cursor_execute",
                 lambda _conn, _cursor, statement, *_: None
                 if statement.lstrip().upper().startswith(NOT_COUNTED)
                 else " ".join(statement.split())[:160])


def loaded() -> Any:
    """The ORM rows (whole mapped objects) loaded inside the block, by class."""
    return heard(Base, "load", lambda target, _context: type(target).__name__, propagate=True)


@contextmanager
def decrypted() -> Iterator[list[str]]:
    """Every value decrypted inside the block."""
    keys = crypto.keyring()
    values: list[str] = []
    original = keys.decrypt

    def decrypt(token: str) -> str:
        values.append(original(token))
        return values[-1]

    keys.decrypt = decrypt  # type: ignore[method-assign]
    try:
        yield values
    finally:
        del keys.decrypt


def sent_by(person: Any, conversation: dict[str, str], channel_data: dict[str, Any],
            **activity: Any) -> Activity:
    """An activity from a demo person, in the demo tenant."""
    return Activity().deserialize({
        "channelId": "msteams", "serviceUrl": "http://x/",
        "from": {"id": person.teams_user_id, "aadObjectId": person.aad_object_id,
                 "name": person.full_name},
        "recipient": {"id": "bot"},
        "conversation": {**conversation, "tenantId": DEMO_TENANT},
        "channelData": {"tenant": {"id": DEMO_TENANT}, **channel_data}, **activity})


def typed_in_channel(person: Any, text: str) -> Activity:
    return sent_by(person, {"id": f"{DEMO_TEAM};messageid=1", "conversationType": "channel"},
                   {"team": {"id": DEMO_TEAM}}, type="message",
                   id=f"typed-{text}-{person.full_name}", text=text)


def in_personal_chat(person: Any, **activity: Any) -> Activity:
    return sent_by(person, {"id": f"chat-{person.teams_user_id}",
                            "conversationType": "personal"}, {}, **activity)


def within(budget: int, sent: list[str]) -> str:
    return f"{len(sent)} statements, budget {budget}:\n" + "\n".join(sent)


async def with_shared_cards(store) -> None:
    """The attendance card and the open case's card posted, as `start` and `next` do, so
    that a press refreshes them as it does in Teams."""
    async with store.unit_of_work() as session:
        for meeting in (await session.scalars(select(Meeting))).all():
            meeting.attendance_message_id = "attendance-card"
        for case in (await session.scalars(select(Case))).all():
            case.card_message_id = f"card-{case.number}"


async def confirm(store, clock, who) -> dict[str, Any]:
    activity, action = press_in_channel(who, "attendance.confirm",
                                        role="agency_representative")
    answer, _, _ = await handle_card_action(activity, action, store, clock)
    return answer


async def test_confirming_attendance_is_within_its_budget(store, clock):
    await started(store, clock)
    await next_case(store, clock)
    await with_shared_cards(store)
    activity, action = press_in_channel(PRIYA, "attendance.confirm",
                                        role="agency_representative")
    with statements(store) as sent:
        answer, updates, _ = await handle_card_action(activity, action, store, clock)
    assert [message_id for message_id, _ in updates] == ["attendance-card"]
    assert answer["type"].endswith("adaptive"), answer
    assert len(sent) <= BUDGET["attendance"], within(BUDGET["attendance"], sent)
    async with store.unit_of_work() as session:
        assert await session.scalar(select(func.count()).select_from(Attendance)) == 1


async def test_adding_an_action_is_within_its_budget(store, clock):
    await started(store, clock)
    _, number = await next_case(store, clock)
    await confirm(store, clock, PRIYA)
    await with_shared_cards(store)
    activity, action = press_in_channel(PRIYA, "case.action", case=number, **an_action(clock))
    with statements(store) as sent:
        answer, updates, _ = await handle_card_action(activity, action, store, clock)
    assert answer["type"].endswith("adaptive"), answer
    assert [message_id for message_id, _ in updates] == [f"card-{number}"]
    assert len(sent) <= BUDGET["action"], within(BUDGET["action"], sent)
    async with store.unit_of_work() as session:
        assert await session.scalar(select(func.count()).select_from(PlannedAction)) == 1


async def ready_to_close(store, clock) -> str:
    """A case open at the meeting that `next` may close: an agency present, its victim
    contact named. Its number."""
    await started(store, clock)
    _, first = await next_case(store, clock)
    await confirm(store, clock, PRIYA)
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.number == first))
        case.victim_contact = "Imogen"
    return first


async def test_next_closing_one_case_and_opening_another_is_within_its_budget(store, clock):
    first = await ready_to_close(store, clock)
    with statements(store) as sent, decrypted() as values, loaded() as rows:
        posts = await handle_message(typed_in_channel(CHRIS, "next"), store, clock)
    texts = " ".join(post.message.text or "" for post in posts)
    assert f"Planning for {first} is closed" in texts, texts
    assert len(sent) <= BUDGET["next"], within(BUDGET["next"], sent)
    assert len(values) <= NEXT_DECRYPTS, values
    assert rows == [], f"`next` reads columns, not ORM rows: {rows}"
    async with store.unit_of_work() as session:
        status = await session.scalar(select(Case.status).where(Case.number == first))
        assert status is CaseStatus.CLOSED


async def test_help_is_the_replay_check_who_is_acting_and_the_audit_row(store, clock):
    """In personal chat too, where a command's words may name a MARAC: `help` names none."""
    await started(store, clock)
    with statements(store) as sent:
        posts = await handle_message(in_personal_chat(
            CHRIS, type="message", id="help-1", text="help"), store, clock)
    assert posts, "help answers"
    assert len(sent) <= BUDGET["help"], within(BUDGET["help"], sent)


async def test_counting_the_referral_forms_yes_answers_reads_the_form_in_one_statement(
        store, clock):
    """The light press: who is acting, the form's agencies with the referrer's own and the
    MARAC's day in one read, and no audit beyond its row (it writes nothing else)."""
    await started(store, clock)
    verb = "referral.count"
    activity = in_personal_chat(PRIYA, type="invoke", name="adaptiveCard/action",
                                id="count-1", replyToId="form-1")
    answers = {"q01_injury": "yes", "q02_very_frightened": "yes"}
    action = {"verb": verb, "data": {"verb": verb, **answers}}
    with statements(store) as sent, loaded() as rows:
        answer, _, _ = await handle_card_action(activity, action, store, clock)
    shown = json.dumps(answer["value"])
    assert "**2 of 24** answered yes" in shown, shown
    inputs = {item["id"]: item.get("value") for item in answer["value"]["body"]
              if "id" in item}
    assert inputs["referring_agency"] == "Police" and inputs["referrer_name"] == "Priya"
    assert len(sent) <= BUDGET[verb] + 1, within(BUDGET[verb] + 1, sent)  # + the audit row
    assert rows == [], f"the form reads columns, not ORM rows: {rows}"


async def test_identical_presses_at_once_store_one_action_and_all_get_the_card(store, clock):
    """Fifty presses of the same card at the same instant (a repeated click, a redelivery):
    each is answered with the case card, one action is stored, and only the press that
    stored it refreshes the shared card."""
    await started(store, clock)
    _, number = await next_case(store, clock)
    await confirm(store, clock, PRIYA)
    await with_shared_cards(store)
    activity, action = press_in_channel(PRIYA, "case.action", case=number, **an_action(clock))
    answers = await asyncio.gather(*(handle_card_action(activity, action, store, clock)
                                     for _ in range(50)))
    assert all(answer["type"].endswith("adaptive") for answer, _, _ in answers)
    assert sum(bool(updates) for _, updates, _ in answers) == 1
    async with store.unit_of_work() as session:
        assert await session.scalar(select(func.count()).select_from(PlannedAction)) == 1


async def test_a_unit_of_work_opened_inside_another_does_not_wait_for_itself(store, clock):
    """SQLite's units of work queue in the process (storage.database.WriterQueue); one opened
    inside another, before the outer has written, goes through rather than queueing behind
    its own outer one."""
    await started(store, clock)
    async with store.unit_of_work() as outer:
        async with store.unit_of_work() as inner:
            assert await inner.scalar(select(func.count()).select_from(Case))
        assert await outer.scalar(select(func.count()).select_from(Case))


async def test_a_press_on_a_case_with_a_referral_answers_with_its_full_view(store, clock):
    """The demo's cases came without referrals; a case from a referral is answered with the
    victim's voice and equality profile the full view shows, within the same budget."""
    from tests.store.referral_factory import refer
    from tests.store.test_victim_voice import EQUALITY_ANSWERS, VOICE_ANSWERS, card_payload

    demo = await started(store, clock)
    _, number = await next_case(store, clock)
    referral = await refer(store, clock, demo.marac_id,
                           card_payload(yes=15, **VOICE_ANSWERS, **EQUALITY_ANSWERS))
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.number == number))
        case.referral_id = referral.id
    await with_shared_cards(store)
    activity, action = press_in_channel(PRIYA, "case.action", case=number,
                                        **an_action(clock))
    with statements(store) as sent:
        answer, _, _ = await handle_card_action(activity, action, store, clock)
    shown = str(answer)
    assert "To stay in her home with the locks changed" in shown, answer
    assert "Black or Black British" in shown
    assert len(sent) <= BUDGET["action"], within(BUDGET["action"], sent)


async def test_the_next_cases_card_id_is_kept_in_one_update_that_a_restart_finds(
        store, clock, database_url):
    """Teams gives the posted card's id only once the card is sent, after `next`'s unit of
    work has committed (a send inside it would hold the meeting's lock, and SQLite's one
    write lock, across a call to Teams); keeping it costs one UPDATE, and a new store (a
    restart, another replica) finds it."""
    first = await ready_to_close(store, clock)
    posts = await handle_message(typed_in_channel(CHRIS, "next"), store, clock)
    [kept] = [post for post in posts if post.record is not None]
    with statements(store) as sent:
        async with store.one_statement() as connection:
            assert kept.record is not None
            await kept.record(connection, "sent-card-id")
    assert [statement.split()[0] for statement in sent] == ["UPDATE"], sent
    restarted = Store.from_url(database_url)
    try:
        async with restarted.unit_of_work() as session:
            opened = await session.scalar(select(Case).where(Case.status == CaseStatus.OPEN))
            assert opened is not None and opened.number != first
            assert opened.card_message_id == "sent-card-id"
    finally:
        await restarted.close()


async def test_a_connection_lent_for_one_statement_goes_back_to_transactions(store, clock):
    """On PostgreSQL the one statement is sent in autocommit; the pooled connection then
    serves units of work that roll back, as before."""
    await started(store, clock)
    async with store.one_statement() as connection:
        await connection.execute(update(Meeting).values(attendance_message_id="kept"))
    with pytest.raises(RuntimeError):
        async with store.unit_of_work() as session:
            await session.execute(update(Meeting).values(attendance_message_id="undone"))
            raise RuntimeError("the turn failed")
    async with store.unit_of_work() as session:
        kept = set((await session.scalars(select(Meeting.attendance_message_id))).all())
    assert kept == {"kept"}


# Tables that grow with the MARAC's work: read by index, never scanned whole, by a press.
GROWING = ("planned_action", "agency_information", "marac_case", "referral", "attendance",
           "audit_event", "processed_message", "meeting", "person", "role_grant", "apology")


async def test_an_action_press_and_next_read_by_index_never_scanning_a_growing_table(
        store, clock, database_url):
    """SQLite's own query plan for every statement the busiest press and `next` send: a
    table that grows with every meeting (every action ever agreed, say) is searched through
    an index, so a press costs the same in a MARAC's fifth year as in its first."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL plans by its tables' sizes: a scan of a test's few rows is "
                    "its right choice")
    first = await ready_to_close(store, clock)
    await with_shared_cards(store)
    activity, action = press_in_channel(PRIYA, "case.action", case=first, **an_action(clock))
    with heard(store.engine.sync_engine, "before_cursor_execute",
               lambda _conn, _cursor, statement, parameters, *_: (statement, parameters)
               ) as sent:
        await handle_card_action(activity, action, store, clock)
        await handle_message(typed_in_channel(CHRIS, "next"), store, clock)
    path = database_url.split("///", 1)[1]
    with closing(sqlite3.connect(path)) as database:
        scans = [(step, statement[:80]) for statement, parameters in sent
                 if not statement.lstrip().upper().startswith(NOT_COUNTED)
                 for *_, step in database.execute(f"EXPLAIN QUERY PLAN {statement}",
                                                  parameters)
                 if step.startswith(tuple(f"SCAN {table}" for table in GROWING))]
    assert scans == [], scans
