"""MARAC-to-MARAC transfers (issue 17; 002 §11): Riverside hears Amy's case, Cara (its
coordinator) records that Amy has moved to Westbrook, the demo's second MARAC. The transfer
arrives in Westbrook's triage marked as one, with the earlier plan, and counts as a repeat
there within 12 months of the Riverside hearing; the referring agency is told to inform the
partners; the referral document is marked OFFICIAL-SENSITIVE and carries the plan. A chair
between meetings, an unknown case, the same transfer twice and a sharing agreement not signed
are each refused or withheld, and the command is audited with its outcome."""

from __future__ import annotations

import io
from datetime import timedelta

from docx import Document
from sqlalchemy import select, update

from bot.features import transfers as transfer_feature
from dialogs import transfers
from dialogs.agenda import Viewer, next_agenda
from dialogs.demo import DEMO_PEOPLE, WESTBROOK_MARAC
from dialogs.referrals import read_form, submit
from dialogs.refusal import Refusal
from dialogs.scheduling import local_today
from dialogs.transfers import TransferError, transfers_in
from dialogs.triage import awaiting_triage
from storage.models import (
    Agency,
    AuditEvent,
    Case,
    Marac,
    OutboxMessage,
    Referral,
    ReferralSource,
    Role,
    Transfer,
    TransferDelivery,
)
from tests.store.meeting_factory import next_case
from tests.store.plan_factory import end_meeting, heard, tick
from tests.store.referral_factory import accept, card_payload, refer
from tests.store.test_marac_scope import personal
from tests.turns import handle_message

CARA = next(p.aad_object_id for p in DEMO_PEOPLE if p.full_name == "Cara Okafor")
COORDINATOR = frozenset({Role.COORDINATOR})


async def heard_with_referral(store, clock, referring: str = "IDVA Service"):
    """The demo meeting's first case, referred by `referring`, heard and closed (plan v1)."""
    h = await heard(store, clock, close=False)
    referral = await refer(store, clock, h.demo.marac_id,
                           card_payload(referring_agency=referring,
                                        received_on=local_today_iso(clock)))
    async with store.unit_of_work() as session:
        await session.execute(update(Case).where(Case.number == h.number)
                              .values(referral_id=referral.id))
    clock.set(clock.now() + timedelta(minutes=15))
    await next_case(store, clock)
    await tick(store, clock)  # the plan's first version, as the timer writes it
    return h, referral


def local_today_iso(clock) -> str:
    return (clock.now().date() - timedelta(days=1)).isoformat()


async def westbrook(store) -> int:
    async with store.unit_of_work() as session:
        found = await session.scalar(select(Marac.id).where(Marac.name == WESTBROOK_MARAC))
    assert found is not None
    return found


async def record(store, clock, h, to: str = "Westbrook", roles=COORDINATOR):
    async with store.unit_of_work() as session:
        return await transfers.record(session, h.demo.marac_id, h.number, to, roles,
                                      h.demo.people["Cara"], clock.now())


async def test_a_transfer_arrives_in_the_second_maracs_triage_as_a_repeat_with_its_plan(
        store, clock):
    h, original = await heard_with_referral(store, clock)
    clock.set(clock.now() + timedelta(days=20))
    done = await record(store, clock, h)
    assert done.transfer.delivery is TransferDelivery.DELIVERED
    assert done.to_marac == WESTBROOK_MARAC
    marac_id = await westbrook(store)
    async with store.unit_of_work() as session:
        waiting = await awaiting_triage(session, marac_id)
        assert [r.victim_reference for r in waiting] == [original.victim_reference]
        arrived = waiting[0]
        assert arrived.source is ReferralSource.TRANSFER
        assert arrived.repeat_of_id == original.id and "repeat" in arrived.qualifying_reasons
        came = (await transfers_in(session, [arrived.id]))[arrived.id]
    assert came.from_marac == "Riverside MARAC" and came.case_number == h.number
    assert came.earlier_plan == f"{h.number}, version 1"
    assert any("IDVA Service" in line for line in came.earlier_actions)
    # Accepted, it is listed at Westbrook's meeting as a repeat transferred from Riverside.
    await accept(store, clock, marac_id, arrived.id)
    async with store.unit_of_work() as session:
        agenda = await next_agenda(session, marac_id, clock.now(),
                                   Viewer(COORDINATOR, None))
    line = next(x for x in agenda.lines if x.first_name == "Jess")
    assert line.repeat and line.transferred_from == "Riverside MARAC"
    assert any(a.from_earlier_plan for a in line.actions)


async def test_a_new_referral_there_within_twelve_months_counts_the_earlier_hearing(
        store, clock):
    h, original = await heard_with_referral(store, clock)
    await record(store, clock, h)
    marac_id = await westbrook(store)
    clock.set(clock.now() + timedelta(days=30))
    async with store.unit_of_work() as session:
        marac = await session.get_one(Marac, marac_id)
        day = local_today(marac, clock.now())
        form = read_form(card_payload(yes=3, referring_agency="Police",
                                      incident_date=day.isoformat(),
                                      received_on=day.isoformat()), day)
        later = (await submit(session, marac, form, None, clock.now())).referral
    assert later.repeat_of_id == original.id and later.qualifying_reasons == ["repeat"]


async def test_transfers_after_twelve_months_are_not_repeats(store, clock):
    h, _ = await heard_with_referral(store, clock)
    clock.set(clock.now() + timedelta(days=400))
    done = await record(store, clock, h)
    async with store.unit_of_work() as session:
        arrived = await session.get_one(Referral, done.transfer.referral_id)
    assert arrived.repeat_of_id is None and "repeat" not in arrived.qualifying_reasons


async def test_the_chair_records_at_the_meeting_and_the_referring_agency_is_told(store, clock):
    h, _ = await heard_with_referral(store, clock)
    done = await record(store, clock, h, roles=frozenset({Role.CHAIR}))  # the meeting runs
    assert done.referring_agency_people == (h.demo.people["Imogen"],)
    assert len(done.receiving_triage) == 1


async def test_a_sharing_agreement_not_signed_withholds_the_transfer(store, clock):
    h, _ = await heard_with_referral(store, clock)
    marac_id = await westbrook(store)
    async with store.unit_of_work() as session:
        await session.execute(update(Agency).where(Agency.marac_id == marac_id,
                                                   Agency.name == "IDVA Service")
                              .values(signed_sharing_agreement=False))
    done = await record(store, clock, h)
    assert done.transfer.delivery is TransferDelivery.WITHHELD
    assert "Westbrook MARAC's information sharing agreement" in done.transfer.note
    assert done.receiving_triage == ()
    async with store.unit_of_work() as session:
        assert await awaiting_triage(session, marac_id) == []


async def test_a_marac_outside_this_deployment_gets_the_document_only(store, clock):
    h, _ = await heard_with_referral(store, clock)
    done = await record(store, clock, h, to="Lakeside MARAC")
    assert done.transfer.delivery is TransferDelivery.OUTSIDE
    assert done.transfer.referral_id is None and done.to_marac == "Lakeside MARAC"


async def test_refusals_change_nothing(store, clock):
    h, _ = await heard_with_referral(store, clock)
    await end_meeting(store, clock)
    refused = {}
    for name, to, roles, number in (
            ("chair between meetings", "Westbrook", frozenset({Role.CHAIR}), h.number),
            ("no MARAC named", "  ", COORDINATOR, h.number),
            ("its own MARAC", "Riverside", COORDINATOR, h.number),
            ("unknown case", "Westbrook", COORDINATOR, "RIV-1999-001"),
            ("no referral", "Westbrook", COORDINATOR, h.demo.numbers[2])):
        try:
            async with store.unit_of_work() as session:
                await transfers.record(session, h.demo.marac_id, number, to, roles, None,
                                       clock.now())
        except Refusal as error:
            refused[name] = str(error)
    assert set(refused) == {"chair between meetings", "no MARAC named", "its own MARAC",
                            "unknown case", "no referral"}
    await record(store, clock, h)
    try:
        await record(store, clock, h)
        raise AssertionError("a second transfer to the same MARAC was recorded")
    except TransferError as error:
        assert "already been transferred to Westbrook MARAC" in str(error)
    async with store.unit_of_work() as session:
        assert len((await session.scalars(select(Transfer))).all()) == 1


async def test_the_command_answers_with_the_document_and_is_audited(store, clock):
    h, _ = await heard_with_referral(store, clock)
    posts = await handle_message(personal(CARA, f"transfer {h.number} Westbrook"), store, clock)
    texts = [p.message.serialize() for p in posts]
    assert "recorded" in str(texts[0]) and "Westbrook MARAC's triage" in str(texts[0])
    assert "file.consent" in str(texts[1])
    refused = await handle_message(personal(CARA, "transfer RIV-1999-001 Westbrook"), store,
                                   clock)
    assert "There is no case RIV-1999-001" in str(refused[0].message.serialize())
    async with store.unit_of_work() as session:
        audited = [(e.action, e.outcome) for e in (await session.scalars(
            select(AuditEvent).where(AuditEvent.action == "transfer")
            .order_by(AuditEvent.id))).all()]
        told = (await session.scalars(select(OutboxMessage.purpose).where(
            OutboxMessage.purpose == "transfer"))).all()
        transfer = await session.scalar(select(Transfer))
        assert transfer is not None
        document = Document(io.BytesIO(await transfer_feature.render(session, transfer)))
    assert audited == [("transfer", "done"), ("transfer", "refused")]
    assert len(told) == 2  # Imogen (IDVA Service, the referring agency) and Westbrook's Ellis
    assert document.sections[0].header.paragraphs[0].text == "OFFICIAL-SENSITIVE"
    text = "\n".join(p.text for p in document.paragraphs)
    assert "MARAC-to-MARAC referral" in text and f"MARAC action plan {h.number}" in text


async def test_a_closed_panel_case_is_the_chairs_to_transfer_and_its_plan_not_shown(
        store, clock):
    h, _ = await heard_with_referral(store, clock)
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.number == h.number))
        assert case is not None
        case.closed_panel = True
    try:
        await record(store, clock, h)
        raise AssertionError("the coordinator transferred a closed-panel case")
    except TransferError as error:
        assert "closed panel" in str(error)
    done = await record(store, clock, h, roles=frozenset({Role.CHAIR}))
    async with store.unit_of_work() as session:
        came = (await transfers_in(session, [done.transfer.referral_id or 0]))
    [shown] = came.values()
    assert shown.earlier_actions == () and "closed panel" in shown.earlier_plan


async def test_the_document_is_rendered_again_when_the_file_is_accepted_and_audited(
        store, clock):
    from bot.teams.conversation import arrival_of

    h, _ = await heard_with_referral(store, clock)
    await handle_message(personal(CARA, f"transfer {h.number} Westbrook"), store, clock)
    arrival = arrival_of(personal(CARA))
    choices = {"kind": "transfer", "marac": h.demo.marac_id, "case": h.number}
    document, again = await transfer_feature.accepted(store, arrival, choices, True, clock)
    assert Document(io.BytesIO(document)).core_properties.subject == "OFFICIAL-SENSITIVE"
    observer = next(p.aad_object_id for p in DEMO_PEOPLE if p.full_name == "Owen Baker")
    try:
        await transfer_feature.accepted(store, arrival_of(personal(observer)), choices, True,
                                        clock)
        raise AssertionError("an observer saved a transfer's referral")
    except Refusal as error:
        assert "Only the chair or the coordinator" in str(error)
    async with store.unit_of_work() as session:
        audited = [e.outcome for e in (await session.scalars(
            select(AuditEvent).where(AuditEvent.action == transfer_feature.EXPORTED)
            .order_by(AuditEvent.id))).all()]
    assert audited == ["done", "refused"]
