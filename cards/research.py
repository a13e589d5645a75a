"""A case's research card, in a representative's personal chat before the meeting: what their
agency holds (or "not known to us"), the risks it sees, actions already taken and proposed."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from adaptive_cards import card as ac
from adaptive_cards import types as act

from cards.base import build, execute, facts, heading, paragraph, text_input
from dialogs.first_names import shown
from dialogs.research import ResearchForm


def research_card(form: ResearchForm, timezone: str, note: str | None = None
                  ) -> ac.AdaptiveCard:
    sent = form.information
    meeting_at = form.meeting_starts_at.astimezone(ZoneInfo(timezone))
    items: list[object] = [heading(f"{form.case_number}: {form.agency}'s research")]
    if note:
        items.append(ac.TextBlock(text=note, wrap=True, weight=act.FontWeight.BOLDER))
    items += [
        facts([("Case", f"{form.case_number} · {shown(form.first_name)}"),
               ("Meeting", f"{meeting_at:%A %d %B %Y, %H:%M}"),
               ("Due by", f"{form.due_on:%A %d %B %Y}"),
               ("Returned", _returned(form))]),
        paragraph("Sending again replaces what your agency returned."),
        text_input("information", "What your agency holds",
                   "" if sent is None or sent.not_involved else sent.text,
                   multiline=True, max_length=4000),
        ac.InputToggle(id="not_known", title="Not known to us: systems flagged",
                       value="true" if sent is not None and sent.not_involved else "false"),
        text_input("risks", "Risks your agency sees", (sent.risks or "") if sent else "",
                   multiline=True, max_length=2000),
        text_input("actions_taken", "Actions your agency has already taken",
                   (sent.actions_taken or "") if sent else "", multiline=True,
                   max_length=2000),
        text_input("actions_proposed", "Actions your agency proposes",
                   (sent.actions_proposed or "") if sent else "", multiline=True,
                   max_length=2000),
    ]
    return build(items, [execute("Send research", "research.send", case=form.case_number)])


def _returned(form: ResearchForm) -> str:
    sent = form.information
    if sent is None or not sent.before_meeting:
        return "not yet"
    return "yes, late" if sent.late else "yes, on time"
