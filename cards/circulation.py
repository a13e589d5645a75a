"""The case list sent to representatives before the meeting, and the reminder to agencies
that have sent nothing. Both go to people in personal chat only."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from adaptive_cards import card as ac

from cards.base import build, execute, facts, heading, paragraph, text_input
from dialogs.circulation import CaseList, Reminder
from dialogs.first_names import shown


def _when(case_list_or_reminder: CaseList | Reminder) -> str:
    zone = ZoneInfo(case_list_or_reminder.marac.timezone)
    return case_list_or_reminder.meeting.starts_at.astimezone(zone).strftime(
        "%A %d %B %Y, %H:%M")


def case_list_card(case_list: CaseList) -> ac.AdaptiveCard:
    title = f"{case_list.marac.name}: case list for {_when(case_list)}"
    if not case_list.entries:
        return build([heading(title), paragraph("No cases are listed for this meeting.")])
    rows = []
    for entry in case_list.entries:
        flags = [r.replace("_", " ") for r in entry.reasons]
        flags += ["repeat"] * entry.repeat + ["closed panel"] * entry.closed_panel
        rows.append((entry.number, f"{shown(entry.first_name)} · {', '.join(flags) or 'listed'}"))
    return build([
        heading(title),
        paragraph("Please research these cases and return your agency's research on each "
                  "(Research below) no later than one working day before the meeting, "
                  "especially if you cannot attend."),
        facts(rows),
    ], [*_research_buttons(case_list), _apologies_button(case_list)])


def _apologies_button(case_list: CaseList) -> ac.ActionShowCard:
    return ac.ActionShowCard(title="Send apologies", card=build([
        paragraph("You cannot attend: name a deputy from your agency if one comes for you."),
        text_input("deputy", "Deputy's first name (optional)", max_length=60),
    ], [execute("Send apologies", "apologies.send", marac=case_list.marac.id,
                meeting=case_list.meeting.id)]))


def _research_buttons(case_list: CaseList) -> list[ac.ActionExecute]:
    """One button per case not heard in a closed panel (whose papers go to the admitted only)."""
    return [execute(f"Research {entry.number}", "research.open", case=entry.number)
            for entry in case_list.entries if not entry.closed_panel]


def reminder_card(reminder: Reminder) -> ac.AdaptiveCard:
    return build([
        heading(f"{reminder.agency}: information due for {_when(reminder)}"),
        paragraph("Your agency has not sent information for these cases. Without an update "
                  "the meeting will record \"no relevant information held\"."),
        facts([(number, "no information sent yet") for number in reminder.case_numbers]),
    ], [execute(f"Research {number}", "research.open", case=number)
        for number in reminder.case_numbers])
