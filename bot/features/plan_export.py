"""The plan as a document: a Word file (DOCX) of one version, for the coordinator to upload to
the agencies' case-management systems and for the plan emailed to secure mailboxes.

Why DOCX rather than PDF: the systems the plan is uploaded to (children's social care,
police, IDVA and health records) all take Word documents as attachments, and MARAC plans are
conventionally kept as Word templates that agencies copy actions from into their own systems;
DOCX keeps the text, headings and tables selectable, searchable and readable by screen
readers; python-docx writes it with no native dependency beyond lxml. Each page carries the
Government Security Classification marking OFFICIAL-SENSITIVE in its header and footer.

`plan CASE export` (coordinator only) answers in personal chat with Teams' file consent card:
the coordinator accepts, Teams gives an upload URL in their OneDrive, the document is put there
and a file card links it (`accept`)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.features.documents import marked_document, offer, table, to_bytes
from bot.turns.arrival import Arrival
from bot.turns.replies import Message
from bot.turns.request import Request
from dialogs import plans
from dialogs.clock import Clock
from dialogs.plans import PlanError, PlanSeen
from storage.database import Store
from storage.models import Marac, Role

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
STATUS = {"open": "not yet acknowledged", "acknowledged": "acknowledged", "done": "done",
          "cannot_complete": "cannot be completed"}


EXPORTED = "plan.export"  # the audit trail's name for a plan document saved

def file_name(seen: PlanSeen) -> str:
    safe = re.sub(r"[^A-Za-z0-9-]", "", seen.plan.case_number)
    return f"MARAC-plan-{safe}-v{seen.version}.docx"


def _when(value: str | datetime, zone: str) -> str:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(ZoneInfo(zone)).strftime("%d %B %Y, %H:%M")


def render_docx(seen: PlanSeen, zone: str = "Europe/London") -> bytes:
    document = marked_document(f"MARAC action plan {seen.plan.case_number}")
    add_plan(document, seen, zone)
    return to_bytes(document)


def add_plan(document: Any, seen: PlanSeen, zone: str, level: int = 0) -> None:
    """One version of the plan, its title at heading `level` (0: the document's own; a
    transfer's referral carries several plans, each under a heading of level 1)."""
    plan = seen.plan
    document.add_heading(f"MARAC action plan {plan.case_number} · {plan.victim_first_name}",
                         level)
    sub = level + 1
    table(document, [
        ("MARAC", plan.marac),
        ("Meeting", _when(plan.meeting_at, zone) + (" (closed panel)" if plan.closed_panel
                                                    else "")),
        ("Version", f"{seen.version} of {seen.versions}, {_when(seen.created_at, zone)}"),
        ("Changed by", seen.changed_by),
        ("What changed", seen.change),
        ("Why", seen.reason),
        ("Updates the victim", plan.victim_contact or "not named"),
    ])
    if plan.referral:
        referral = plan.referral
        table(document, [
            ("Referred by", str(referral.get("referring_agency") or "not recorded")),
            ("Qualifies by", ", ".join(str(r).replace("_", " ")
                                       for r in referral.get("reasons", [])) or "not recorded"),
            ("DASH", f"{referral.get('dash_yes', 0)} of 24 yes"),
            ("Children in the household", str(referral.get("children", 0))),
        ])
    if plan.exceptional:
        document.add_paragraph(f"Exceptional case ({plan.exceptional}): "
                               f"{plan.exceptional_note}. Information is shared and recorded; "
                               "no actions are planned.")
    document.add_heading("Responsible", sub)
    document.add_paragraph("Everyone present shares responsibility for this plan; no one "
                           "person signs it off: " + (", ".join(plan.responsible) or "none "
                                                      "recorded") + ".")
    if plan.risks:
        document.add_heading("Risks", sub)
        for risk in plan.risks:
            document.add_paragraph(risk, style="List Bullet")
    document.add_heading("Agency information", sub)
    table(document, list(plan.information), header=("Agency", "Information"))
    document.add_heading("Actions", sub)
    if plan.actions:
        table(document, [(a.agency, a.description, a.for_whom, a.owner or "—",
                           a.due_on or "—", a.risk or "—",
                           STATUS.get(a.status, a.status) + (f": {a.note}" if a.note else ""))
                          for a in plan.actions],
               header=("Agency", "Action", "For", "Owner", "Due", "Risk", "Status"))
    else:
        document.add_paragraph("No actions.")
    if plan.earlier_plan or plan.earlier_actions:
        document.add_heading("Earlier plan (a repeat; for information)", sub)
        if plan.earlier_plan:
            document.add_paragraph(plan.earlier_plan)
        for line in plan.earlier_actions:
            document.add_paragraph(line, style="List Bullet")
    if plan.updates:
        document.add_heading("New information after the meeting", sub)
        table(document, [(_when(u.at, zone), u.by,
                           ("Risk raised. " if u.risk_raised else "") + u.text)
                          for u in plan.updates], header=("When", "Who", "Information"))


# --- offered in Teams with the file consent card (bot.teams.file_consent) --------------------

async def export_reply(request: Request, number: str) -> Message:
    """`plan CASE export`: for the coordinator, a file consent card for the current version."""
    if Role.COORDINATOR not in request.context.actor.roles:
        raise PlanError("Only the coordinator can export a plan.")
    seen = await plans.show(request.session, request.marac_id, number,
                            request.context.actor.roles, request.context.actor.person_id)
    zone = (await request.session.get_one(Marac, request.marac_id)).timezone
    document = render_docx(seen, zone)
    return offer(file_name(seen), f"The MARAC action plan {seen.plan.case_number}, version "
                 f"{seen.version}, as a Word document", len(document),
                 {"case": seen.plan.case_number, "version": seen.version})


async def accepted(store: Store, arrival: Arrival, choices: Any, can_upload: bool,
                   clock: Clock) -> tuple[bytes, str]:
    """The coordinator accepted the file: check again who they are and render the version
    named in the card. The document, and the command to run again should Teams not take it;
    a PlanError says why not. The export, or its refusal, is audited."""
    from bot.turns.access import audit, context_of, pressed_marac

    context = choices if isinstance(choices, dict) else {}
    number = str(context.get("case", ""))[:40]
    async with store.unit_of_work() as session:
        who = await context_of(session, arrival,
                               named=await pressed_marac(session, arrival, context))
        refused: str | None = None
        if Role.COORDINATOR not in who.actor.roles or who.marac_id is None or not can_upload:
            refused = "Only the coordinator can export a plan."
        else:
            try:
                seen = await plans.show(session, who.marac_id, number, who.actor.roles,
                                        who.actor.person_id)
            except PlanError as error:
                refused = str(error)
        await audit(session, who, arrival, EXPORTED, clock.now(), subject=number,
                    refused=refused)
        if refused is None:
            assert who.marac_id is not None
            zone = (await session.get_one(Marac, who.marac_id)).timezone
    if refused is not None:
        raise PlanError(refused)  # after the unit of work: the refusal's audit row is kept
    return render_docx(seen, zone), f"**plan {seen.plan.case_number} export**"


async def export_file(store: Store, marac_name: str, number: str) -> tuple[str, bytes]:
    """`marac plan-export`: the current version of a case's plan, as the coordinator gets it."""
    from sqlalchemy import select

    async with store.unit_of_work() as session:
        marac = await session.scalar(select(Marac).where(Marac.name == marac_name))
        if marac is None:
            raise ValueError(f"There is no MARAC named {marac_name!r}.")
        seen = await plans.show(session, marac.id, number, frozenset({Role.COORDINATOR}),
                                None)
    return file_name(seen), render_docx(seen, marac.timezone)
