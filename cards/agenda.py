"""The agenda as shown in a shared channel: case numbers and first names only."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from adaptive_cards import card as ac

from cards.base import build, facts, heading, paragraph
from dialogs.agenda import Agenda

LONDON = ZoneInfo("Europe/London")


def agenda_card(agenda: Agenda) -> ac.AdaptiveCard:
    if agenda.meeting_starts_at is None:
        return build([heading(f"{agenda.marac_name}: agenda"),
                      paragraph("No meeting is scheduled yet.")])
    when = agenda.meeting_starts_at.astimezone(LONDON).strftime("%A %d %B %Y, %H:%M")
    if not agenda.lines:
        return build([heading(f"{agenda.marac_name}: {when}"),
                      paragraph("No cases are listed for this meeting yet.")])
    return build([
        heading(f"{agenda.marac_name}: {when}"),
        facts([
            (line.starts_at.astimezone(LONDON).strftime("%H:%M"),
             f"{line.case_number} · {line.first_name}")
            for line in agenda.lines
        ]),
    ])
