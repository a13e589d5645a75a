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

import io
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import Activity, Attachment
from botbuilder.schema.teams import FileConsentCardResponse, FileInfoCard
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from bot.replies import text_reply
from bot.request import Request
from dialogs import plans
from dialogs.plans import PlanError, PlanSeen
from storage.database import Store
from storage.models import Marac, Role

MARKING = "OFFICIAL-SENSITIVE"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FILE_CONSENT = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO = "application/vnd.microsoft.teams.card.file.info"
STATUS = {"open": "not yet acknowledged", "acknowledged": "acknowledged", "done": "done",
          "cannot_complete": "cannot be completed"}


def file_name(seen: PlanSeen) -> str:
    safe = re.sub(r"[^A-Za-z0-9-]", "", seen.plan.case_number)
    return f"MARAC-plan-{safe}-v{seen.version}.docx"


def _when(value: str | datetime, zone: str) -> str:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(ZoneInfo(zone)).strftime("%d %B %Y, %H:%M")


def render_docx(seen: PlanSeen, zone: str = "Europe/London") -> bytes:
    plan = seen.plan
    document = Document()
    document.core_properties.title = f"MARAC action plan {plan.case_number}"
    document.core_properties.subject = MARKING
    section = document.sections[0]
    for part in (section.header, section.footer):
        marking = part.paragraphs[0]
        marking.text = MARKING
        marking.alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_heading(f"MARAC action plan {plan.case_number} · {plan.victim_first_name}", 0)
    _table(document, [
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
        _table(document, [
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
    document.add_heading("Responsible", 1)
    document.add_paragraph("Everyone present shares responsibility for this plan; no one "
                           "person signs it off: " + (", ".join(plan.responsible) or "none "
                                                      "recorded") + ".")
    if plan.risks:
        document.add_heading("Risks", 1)
        for risk in plan.risks:
            document.add_paragraph(risk, style="List Bullet")
    document.add_heading("Agency information", 1)
    _table(document, list(plan.information), header=("Agency", "Information"))
    document.add_heading("Actions", 1)
    if plan.actions:
        _table(document, [(a.agency, a.description, a.for_whom, a.owner or "—",
                           a.due_on or "—", a.risk or "—",
                           STATUS.get(a.status, a.status) + (f": {a.note}" if a.note else ""))
                          for a in plan.actions],
               header=("Agency", "Action", "For", "Owner", "Due", "Risk", "Status"))
    else:
        document.add_paragraph("No actions.")
    if plan.earlier_plan or plan.earlier_actions:
        document.add_heading("Earlier plan (a repeat; for information)", 1)
        if plan.earlier_plan:
            document.add_paragraph(plan.earlier_plan)
        for line in plan.earlier_actions:
            document.add_paragraph(line, style="List Bullet")
    if plan.updates:
        document.add_heading("New information after the meeting", 1)
        _table(document, [(_when(u.at, zone), u.by,
                           ("Risk raised. " if u.risk_raised else "") + u.text)
                          for u in plan.updates], header=("When", "Who", "Information"))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _table(document: Any, rows: list[tuple[str, ...]], header: tuple[str, ...] | None = None
           ) -> None:
    width = len(header) if header else 2
    table = document.add_table(rows=0, cols=width)
    table.style = "Table Grid"
    if header:
        cells = table.add_row().cells
        for cell, text in zip(cells, header, strict=True):
            cell.text = text
            for run in cell.paragraphs[0].runs:
                run.font.bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = text
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(10)


# --- in Teams: the file consent card ---------------------------------------------------------

async def export_reply(request: Request, number: str) -> Activity:
    """`plan CASE export`: for the coordinator, a file consent card for the current version."""
    if Role.COORDINATOR not in request.context.actor.roles:
        raise PlanError("Only the coordinator can export a plan.")
    seen = await plans.show(request.session, request.marac_id, number,
                            request.context.actor.roles, request.context.actor.person_id)
    zone = (await request.session.get_one(Marac, request.marac_id)).timezone
    document = render_docx(seen, zone)
    context = {"case": seen.plan.case_number, "version": seen.version}
    return MessageFactory.attachment(Attachment(
        content_type=FILE_CONSENT, name=file_name(seen),
        content={"description": f"The MARAC action plan {seen.plan.case_number}, version "
                                f"{seen.version}, as a Word document ({MARKING}).",
                 "sizeInBytes": len(document), "acceptContext": context,
                 "declineContext": context}))


async def accept(turn_context: TurnContext, response: FileConsentCardResponse, store: Store
                 ) -> None:
    """The coordinator accepted the file: check again who they are, render the version named
    in the card, put it at Teams' upload URL and answer with the file's card."""
    from bot.access import context_of

    context = response.context if isinstance(response.context, dict) else {}
    upload = response.upload_info
    async with store.unit_of_work() as session:
        who = await context_of(session, turn_context.activity)
        if Role.COORDINATOR not in who.actor.roles or who.marac_id is None or upload is None:
            await turn_context.send_activity(text_reply("Only the coordinator can export a "
                                                        "plan."))
            return
        try:
            seen = await plans.show(session, who.marac_id, str(context.get("case", "")),
                                    who.actor.roles, who.actor.person_id)
        except PlanError as refused:
            await turn_context.send_activity(text_reply(str(refused)))
            return
        zone = (await session.get_one(Marac, who.marac_id)).timezone
    document = render_docx(seen, zone)
    async with aiohttp.ClientSession() as client, client.put(
            upload.upload_url, data=document, headers={
                "Content-Length": str(len(document)),
                "Content-Range": f"bytes 0-{len(document) - 1}/{len(document)}"}) as put:
        if put.status >= 300:
            await turn_context.send_activity(text_reply(
                f"Teams did not take the file ({put.status}); please try **plan "
                f"{seen.plan.case_number} export** again."))
            return
    card = FileInfoCard(unique_id=upload.unique_id, file_type=upload.file_type)
    await turn_context.send_activity(MessageFactory.attachment(Attachment(
        content_type=FILE_INFO, name=upload.name, content_url=upload.content_url,
        content=card.serialize())))


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
