"""The agenda card. In a shared channel or meeting chat: case numbers, first names and times
only. In personal chat, for people entitled to it, also why each case is heard, repeat flags
and the pre-populated action plan."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from adaptive_cards import card as ac
from adaptive_cards import types as act

from cards.base import build, facts, heading, paragraph
from dialogs.agenda import Agenda, AgendaLine
from dialogs.first_names import shown

LONDON = ZoneInfo("Europe/London")


def agenda_card(agenda: Agenda, detailed: bool = False) -> ac.AdaptiveCard:
    if agenda.meeting_starts_at is None:
        return build([heading(f"{agenda.marac_name}: agenda"),
                      paragraph("No meeting is scheduled yet.")])
    when = agenda.meeting_starts_at.astimezone(LONDON).strftime("%A %d %B %Y, %H:%M")
    items: list[object] = [heading(f"{agenda.marac_name}: {when}")]
    if not agenda.lines:
        return build([*items, paragraph("No cases are listed for this meeting yet.")])
    open_part = [line for line in agenda.lines if not line.closed_panel]
    closed_part = [line for line in agenda.lines if line.closed_panel]
    items.append(_lines(open_part, detailed))
    if closed_part:
        items.append(ac.TextBlock(text="Closed panel", weight=act.FontWeight.BOLDER,
                                  separator=True))
        items.append(_lines(closed_part, detailed))
    return build(items)


def _lines(lines: list[AgendaLine], detailed: bool) -> ac.Container:
    if not detailed:
        return ac.Container(items=[facts([
            (_time(line), f"{line.case_number} · {shown(line.first_name)}") for line in lines])])
    return ac.Container(items=[_withheld(line) if line.withheld else _detailed(line)
                               for line in lines])


def _withheld(line: AgendaLine) -> ac.Container:
    return ac.Container(separator=True, items=[ac.TextBlock(
        text=f"{_time(line)} · {line.case_number} · {shown(line.first_name)}", wrap=True)])


def _time(line: AgendaLine) -> str:
    return line.starts_at.astimezone(LONDON).strftime("%H:%M")


def _detailed(line: AgendaLine) -> ac.Container:
    flags = [", ".join(r.replace("_", " ") for r in line.reasons) or "reason not recorded"]
    if line.repeat:
        flags.append("repeat")
    if line.transferred_from:
        flags.append(f"transfer from {line.transferred_from}")
    if line.breaches_target:
        flags.append("heard after the 14-working-day target")
    items: list[Any] = [
        ac.TextBlock(text=f"{_time(line)} · {line.case_number} · {shown(line.first_name)}",
                     weight=act.FontWeight.BOLDER, wrap=True),
        paragraph("; ".join(flags), subtle=True),
    ]
    if line.actions:
        items.append(facts([(
            f"{a.agency}{' (earlier plan)' if a.from_earlier_plan else ''}",
            f"{a.description} (for the {a.for_whom})",
        ) for a in line.actions]))
    return ac.Container(separator=True, items=items)
