"""The export of a subject access request, as the operations manager reviewed it (`sar`):
a Word document offered with Teams' file consent card. When they accept, the record is read
and reviewed again from the store and the choices Teams hands back, so nothing waits in
memory and what is exported is what is held at that moment."""

from __future__ import annotations

from typing import Any

from bot.features.documents import marked_document, offer, table, to_bytes
from bot.turns.access import audit, context_of, pressed_marac
from bot.turns.arrival import Arrival
from bot.turns.press import InvokeAnswer, Press, message_answer
from bot.turns.registry import MANAGERS, PERSONAL_ONLY, button
from dialogs import subject_access
from dialogs.clock import Clock
from dialogs.refusal import Refusal
from dialogs.subject_access import Review, ReviewError, SubjectAccess, read_review, reviewed
from storage.database import Store
from storage.models import Role

KIND = "subject access"
NOTHING_HELD = "Nothing is held under that reference."


@button("sar.export", "Export a subject access record as reviewed.", roles=MANAGERS,
        places=PERSONAL_ONLY)
async def _export(press: Press) -> InvokeAnswer:
    reference = str(press.data.get("reference") or "").strip()
    held = await subject_access.gather(press.session, press.marac_id, reference)
    if not held.referrals:
        return message_answer(NOTHING_HELD)
    review = read_review(press.data, len(subject_access.items(held)))
    document = render_docx(reviewed(held, review))
    press.posts.append(offer(
        f"MARAC-subject-access-{press.clock.now():%Y-%m-%d}.docx",
        "The subject access record as you reviewed it, as a Word document", len(document),
        {"kind": KIND, "marac": press.marac_id, "reference": reference,
         "withheld": sorted(review.withheld), "redacted": list(review.redacted)}))
    return message_answer(f"Reviewed: {len(review.withheld)} withheld, "
                          f"{len(review.redacted)} further redactions. Accept the file card "
                          "to save the export.")


def render_docx(held: SubjectAccess) -> bytes:
    document = marked_document("Subject access record")
    document.add_heading(f"Subject access record: {held.reference}", 0)
    document.add_paragraph("Other people's names are redacted; items withheld by the "
                           "operations manager are marked.")
    for referral in held.referrals:
        rows: list[tuple[str, ...]] = [("Received", referral.received_on.isoformat()),
                ("Outcome", f"{referral.status} ({referral.risk_level} risk)"),
                ("Qualified by", ", ".join(referral.reasons) or "none")]
        if referral.case:
            rows.append(("Case", f"{referral.case.number} ({referral.case.status})"))
            rows += [("Information", text) for text in referral.case.information]
            rows += [("Action", text) for text in referral.case.actions]
        table(document, rows)
        document.add_paragraph()
    return to_bytes(document)


def is_subject_access(context: Any) -> bool:
    return isinstance(context, dict) and context.get("kind") == KIND


async def accepted(store: Store, arrival: Arrival, choices: Any, can_upload: bool,
                   clock: Clock) -> tuple[bytes, str]:
    """The operations manager accepted the file: check who they are again, then read and
    review the record again. The document, and the command to run again should Teams not
    take it; a Refusal says why not. The export, or its refusal, is audited (without the
    victim's reference)."""
    async with store.unit_of_work() as session:
        who = await context_of(session, arrival,
                               named=await pressed_marac(session, arrival, choices))
        refused: str | None = None
        reference = str(choices.get("reference", ""))
        if (Role.OPERATIONS_MANAGER not in who.actor.roles or who.marac_id is None
                or not can_upload):
            refused = "Only the operations manager can export a subject access record."
        else:
            held = await subject_access.gather(session, who.marac_id, reference)
            try:
                review = _review_of(choices, len(subject_access.items(held)))
            except Refusal as error:
                refused = str(error)
            else:
                refused = None if held.referrals else NOTHING_HELD
        await audit(session, who, arrival, "sar.export", clock.now(), refused=refused)
    if refused is not None:
        raise Refusal(refused)  # after the unit of work: the refusal's audit row is kept
    return render_docx(reviewed(held, review)), f"**sar {reference}**"


def _review_of(choices: dict[str, Any], count: int) -> Review:
    withheld = choices.get("withheld") or []
    redacted = choices.get("redacted") or []
    if not isinstance(withheld, list) or not isinstance(redacted, list):
        raise ReviewError("The export's review was not readable; run **sar** again.")
    data = {f"withhold_{n}": "true" for n in withheld}
    return read_review({**data, "redact": ", ".join(str(w) for w in redacted)}, count)

