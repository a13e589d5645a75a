"""`transfer CASE MARAC`: the victim has moved to another MARAC's area (002 §11). The chair (at
the meeting) or the coordinator records it in personal chat and is offered the MARAC-to-MARAC
referral as a Word document (OFFICIAL-SENSITIVE) with the case's plans; the referring agency's
representatives are told to inform the partners; a receiving MARAC of this deployment finds it
in its triage (dialogs.transfers)."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

from bot.features.documents import marked_document, offer, table, to_bytes
from bot.features.plan_export import add_plan
from bot.proactive import outbox
from bot.turns.arrival import Arrival
from bot.turns.posts import Post
from bot.turns.registry import PERSONAL_ONLY, command
from bot.turns.replies import text_reply
from bot.turns.request import Request
from dialogs import transfers
from dialogs.clock import Clock
from dialogs.plans import PlanError, seen_version
from dialogs.transfers import Recorded
from storage.database import Store
from storage.models import (
    Case,
    Marac,
    Person,
    Referral,
    Role,
    Transfer,
    TransferDelivery,
)

KIND = "transfer"
EXPORTED = "transfer.export"  # the audit trail's name for a transfer document saved
RECORDERS = frozenset({Role.CHAIR, Role.COORDINATOR})


@command("transfer", "Record that a case's victim has moved to another MARAC's area.",
         "transfer CASE MARAC", roles=RECORDERS, places=PERSONAL_ONLY, menu=False)
async def _transfer(request: Request) -> list[Post]:
    number, _, to_name = request.arguments.strip().partition(" ")
    if not number:
        raise transfers.TransferError("Name the case and the MARAC the victim has moved to, "
                                      "e.g. **transfer RIV-2026-001 Westbrook**.")
    now = request.clock.now()
    done = await transfers.record(request.session, request.marac_id, number, to_name,
                                  request.context.actor.roles, request.context.actor.person_id,
                                  now)
    _tell(request, done)
    document = await render(request.session, done.transfer)
    return [Post(text_reply(_answer(done), done.case_number)),
            Post(offer(file_name(done.case_number),
                       f"The MARAC-to-MARAC referral of {done.case_number} to {done.to_marac}",
                       len(document), {"kind": KIND, "marac": request.marac_id,
                                       "case": done.case_number}))]


def _answer(done: Recorded) -> str:
    delivery = done.transfer.delivery
    where = {TransferDelivery.DELIVERED: f"It is in {done.to_marac}'s triage, with the "
                                         "earlier plans.",
             TransferDelivery.WITHHELD: f"It was not sent to {done.to_marac}: "
                                        f"{done.transfer.note}",
             TransferDelivery.OUTSIDE: f"{done.to_marac} is not run by this bot: send it the "
                                       "referral document below by its secure route."}[delivery]
    return (f"Transfer of {done.case_number} to {done.to_marac} recorded. {where} The referring "
            "agency has been told to inform the partners.")


def _tell(request: Request, done: Recorded) -> None:
    now = request.clock.now()
    for person_id in done.referring_agency_people:
        outbox.enqueue(request.session, text_reply(
            f"{done.case_number}: the victim has moved to {done.to_marac}'s area and the case "
            f"is transferred there. As the referring agency, inform the partners (002 §11).",
            done.case_number), "transfer", now, person_id=person_id)
    for person_id in done.receiving_triage:
        outbox.enqueue(request.session, text_reply(
            f"A transfer from {done.from_marac} is waiting in triage, with its earlier plans: "
            "type **triage**.", "A transfer is waiting in triage"), "transfer", now,
            person_id=person_id)


def file_name(number: str) -> str:
    return f"MARAC-transfer-{re.sub(r'[^A-Za-z0-9-]', '', number)}.docx"


async def render(session: Any, transfer: Transfer) -> bytes:
    """The MARAC-to-MARAC referral: who, from where to where, and every plan of the case."""
    case = await session.get_one(Case, transfer.case_id)
    marac = await session.get_one(Marac, transfer.from_marac_id)
    referral = await session.get(Referral, transfer.from_referral_id or 0)
    recorder = await session.get(Person, transfer.recorded_by_person_id or 0)
    zone = ZoneInfo(marac.timezone)
    document = marked_document(f"MARAC-to-MARAC referral {case.number}")
    document.add_heading(f"MARAC-to-MARAC referral {case.number} · {case.victim_first_name}", 0)
    rows: list[tuple[str, ...]] = [("From", marac.name), ("To", transfer.to_marac_name),
            ("Recorded", transfer.recorded_at.astimezone(zone).strftime("%d %B %Y, %H:%M")),
            ("Recorded by", recorder.first_name if recorder else "—")]
    if referral is not None:
        rows += [("Victim's reference", referral.victim_reference),
                 ("DASH", f"{referral.dash_yes_count} of 24 yes"),
                 ("Children in the household", str(referral.children_in_household))]
    table(document, rows)
    document.add_paragraph("The referring agency informs the partners of this transfer "
                           "(002 §11).")
    for version in await transfers.plans_of(session, case):
        add_plan(document, await seen_version(session, version), marac.timezone, level=1)
    return to_bytes(document)


def is_transfer(context: Any) -> bool:
    return isinstance(context, dict) and context.get("kind") == KIND


async def accepted(store: Store, arrival: Arrival, choices: Any, can_upload: bool,
                   clock: Clock) -> tuple[bytes, str]:
    """The file accepted: who they are is checked again and the document rendered again from
    the store. The export, or its refusal, is audited."""
    from bot.turns.access import audit, context_of, pressed_marac

    number = str(choices.get("case", ""))[:40]
    async with store.unit_of_work() as session:
        who = await context_of(session, arrival, named=await pressed_marac(session, arrival,
                                                                            choices))
        refused: str | None = None
        document = b""
        if not RECORDERS & who.actor.roles or who.marac_id is None or not can_upload:
            refused = "Only the chair or the coordinator can save a transfer's referral."
        else:
            try:
                transfer, _ = await transfers.transfer_of(session, who.marac_id, number,
                                                          who.actor.roles, who.actor.person_id)
                document = await render(session, transfer)
            except PlanError as error:
                refused = str(error)
        await audit(session, who, arrival, EXPORTED, clock.now(), subject=number,
                    refused=refused)
    if refused is not None:
        raise PlanError(refused)
    return document, f"**transfer {number}**"
