"""The perpetrator is never a recipient (../shared/MARAC.md, "Who is heard": nothing the bot
sends goes to them). The store has no address or account for a perpetrator (a first name on
the referral is all); every message the bot can send is an outbox row for one Person (a
professional with a role) or one conversation the bot was installed in; every email is for an
agency's secure mailbox. After a whole run of the process, every row that exists proves it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import inspect, select, update
from sqlalchemy.exc import IntegrityError

from bot.proactive import outbox
from bot.proactive.outbox import Undeliverable
from bot.teams.delivery import address_of
from bot.turns.replies import text_reply
from storage.models import (
    AgencyMailbox,
    Base,
    Case,
    Conversation,
    MailMessage,
    OutboxMessage,
    Person,
    PlanVersion,
    Referral,
    RoleGrant,
)
from tests.store.meeting_factory import next_case
from tests.store.plan_factory import (
    add_mailbox,
    end_meeting,
    follow_up_of,
    heard,
    press,
    tick,
)
from tests.store.referral_factory import card_payload, refer


def test_the_schema_records_no_address_or_account_for_a_perpetrator():
    perpetrator_columns = sorted(
        f"{table.name}.{column.name}" for table in Base.metadata.tables.values()
        for column in table.columns if "perpetrator" in column.name)
    assert perpetrator_columns == ["referral.perpetrator_first_name"]
    referral = inspect(Referral)
    assert not [c.name for c in referral.columns if c.foreign_keys
                and any(fk.column.table.name in ("person", "conversation", "agency_mailbox")
                        for fk in c.foreign_keys)
                and c.name not in ("referred_by_person_id", "triaged_by_person_id")]


def test_an_outbox_row_can_name_only_a_person_or_a_conversation():
    outbox_table = Base.metadata.tables["outbox"]
    targets = {c.name for c in outbox_table.columns
               if c.foreign_keys or c.name.endswith(("conversation_id", "_address", "_email"))}
    assert targets == {"person_id", "conversation_id"}
    (person_key,) = outbox_table.c.person_id.foreign_keys
    assert person_key.column.table.name == "person"
    mail = Base.metadata.tables["mail_outbox"]
    (mailbox_key,) = mail.c.mailbox_id.foreign_keys
    assert mailbox_key.column.table.name == "agency_mailbox" and not mail.c.mailbox_id.nullable
    assert not [c.name for c in mail.columns if "address" in c.name or c.name == "to"]


def test_enqueue_refuses_a_message_for_nobody_or_for_two(clock):
    class Session:
        def add(self, _: object) -> None:
            raise AssertionError("nothing may be stored")

    note = text_reply("hello", "Greeting")
    with pytest.raises(ValueError, match="one person or one conversation"):
        outbox.enqueue(Session(), note, "x", clock.now())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="one person or one conversation"):
        outbox.enqueue(Session(), note, "x", clock.now(), person_id=1,  # type: ignore[arg-type]
                       conversation_id="19:x")
    with pytest.raises(ValueError, match="needs a summary"):
        outbox.enqueue(Session(), text_reply("hello"), "x", clock.now(),  # type: ignore[arg-type]
                       person_id=1)


async def test_an_email_needs_a_secure_mailbox(store, clock):
    h = await heard(store, clock)
    await tick(store, clock)
    async with store.unit_of_work() as session:
        version = await session.scalar(select(PlanVersion.id))
    with pytest.raises(IntegrityError):
        async with store.unit_of_work() as session:
            session.add(MailMessage(mailbox_id=None, plan_version_id=version, subject="x",
                                    created_at=clock.now(), next_attempt_at=clock.now()))
    assert h.number


async def test_a_conversation_the_bot_was_not_installed_in_is_never_sent_to(store, clock):
    async with store.unit_of_work() as session:
        message = OutboxMessage(conversation_id="19:someone-else@thread.v2",
                                activity=text_reply("x").serialize(), purpose="x",
                                created_at=clock.now(), next_attempt_at=clock.now())
        session.add(message)
        await session.flush()
        with pytest.raises(Undeliverable, match="not in that conversation"):
            await address_of(session, message)


async def test_after_a_whole_run_every_recipient_is_a_professional_or_a_stored_conversation(
        store, clock):
    h = await heard(store, clock, close=False, probation_rep=True)
    referral = await refer(store, clock, h.demo.marac_id,
                           card_payload(perpetrator_first_name="Mark"))
    async with store.unit_of_work() as session:
        await session.execute(update(Case).where(Case.number == h.number)
                              .values(referral_id=referral.id))
    await add_mailbox(store, h.demo.agencies["Health"], "marac@health.example.nhs.uk")
    await next_case(store, clock)
    await tick(store, clock)
    follow_up = await follow_up_of(store, h.actions["Imogen"])
    await press(store, clock, h, "Imogen", "action.cannot",
                {"follow_up": follow_up, "reason": "Moved away."})
    await press(store, clock, h, "Priya", "plan.update",
                {"case": h.number, "text": "Mark was seen nearby.", "risk_raised": "true"})
    ended = await end_meeting(store, clock)
    for hours in (1, 36, 48, 24 * 8):
        clock.set(ended + timedelta(hours=hours))
        await tick(store, clock)
    async with store.unit_of_work() as session:
        messages = (await session.scalars(select(OutboxMessage))).all()
        professionals = set((await session.scalars(select(RoleGrant.person_id).where(
            RoleGrant.marac_id == h.demo.marac_id))).all())
        stored = set((await session.scalars(select(Conversation.conversation_id))).all())
        people = {p.id: p for p in (await session.scalars(select(Person))).all()}
        mails = (await session.execute(select(MailMessage, AgencyMailbox).join(
            AgencyMailbox, AgencyMailbox.id == MailMessage.mailbox_id))).tuples().all()
    assert len(messages) > 10
    purposes = {m.purpose for m in messages}
    assert {"plan", "action", "dissemination withheld", "action cannot be completed",
            "children's services update", "dissemination 36h", "dissemination 48h",
            "action acknowledge", "action due"} <= purposes
    for message in messages:
        assert (message.person_id is None) != (message.conversation_id is None)
        if message.person_id is not None:
            assert message.person_id in professionals
            assert people[message.person_id].first_name != "Mark"
        else:
            assert message.conversation_id in stored
    assert [mailbox.address for _, mailbox in mails] == ["marac@health.example.nhs.uk"]
    assert "Pat" not in {people[m.person_id].first_name for m in messages
                         if m.person_id is not None and m.purpose in ("plan", "action")}
