"""The cards of a running meeting. The shared ones (attendance, the case card everyone sees)
carry case numbers and first names only; the full case view goes to entitled people alone,
as the answer to their own press or refresh (a user-specific view)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from adaptive_cards import card as ac
from adaptive_cards import types as act

from cards.base import build, choice_input, execute, facts, heading, paragraph, text_input
from dialogs.case_work import FOR_WHOM, CaseView, SharedCase
from dialogs.earlier_plan import EarlierAction
from dialogs.first_names import shown
from dialogs.meeting import Slot
from dialogs.meeting_record import Summary
from dialogs.report import LABELS as EQUALITY_LABELS
from dialogs.victim_voice import voice_lines

ROLE_CHOICES = [("Agency representative", "agency_representative"), ("Chair", "chair"),
                ("Observer", "observer")]


@dataclass(frozen=True)
class Present:
    first_name: str
    agency: str | None
    role: str


def attendance_card(marac_name: str, present: Sequence[Present], missing_core: Sequence[str],
                    agencies: Sequence[str], case_numbers: Sequence[str],
                    joined: Sequence[str] = (),
                    apologies: Sequence[tuple[str, str]] = ()) -> ac.AdaptiveCard:
    """`joined`: first names of those in the Teams call who have not confirmed yet;
    `apologies`: (agency, "apologies, deputy Dee" or "apologies, information sent")."""
    by_agency: dict[str, list[str]] = {}
    for person in present:
        by_agency.setdefault(person.agency or person.role.replace("_", " "), []).append(
            person.first_name)
    items: list[Any] = [heading(f"{marac_name}: attendance")]
    items.append(facts([(agency, ", ".join(names)) for agency, names in by_agency.items()])
                 if by_agency else paragraph("Nobody has confirmed yet."))
    if joined:
        items.append(paragraph("Joined, not yet confirmed: " + ", ".join(joined)))
    if apologies:
        items.append(facts(list(apologies)))
    items.append(paragraph("Core agencies missing: " + ", ".join(missing_core)
                           if missing_core else "All core agencies are present."))
    return build([*items, *_attendance_inputs(tuple(agencies), tuple(case_numbers))])


# The inputs and buttons of the attendance card and of an open case's card are the same for
# the same agencies and agenda: drawn once and reused (a card model is never changed once
# drawn), as every press redraws its card.
@functools.lru_cache(maxsize=256)
def _attendance_inputs(agencies: tuple[str, ...], case_numbers: tuple[str, ...]
                       ) -> tuple[Any, ...]:
    return (
        choice_input("role", "I attend as", ROLE_CHOICES, "agency_representative"),
        choice_input("agency", "For the agency", [(a, a) for a in agencies]),
        ac.ActionSet(actions=[execute("Confirm attendance", "attendance.confirm")]),
        choice_input("case_number", "I know someone in case", [(n, n) for n in case_numbers]),
        ac.ActionSet(actions=[execute("Declare (told to the operations manager only)",
                                      "attendance.declare")]),
    )


def _clock(slot: Slot) -> str:
    if slot.remaining > 0:
        return f"{slot.remaining // 60}:{slot.remaining % 60:02d} left of the slot"
    return f"over by {slot.overrun // 60}:{slot.overrun % 60:02d}"


def case_card(case: SharedCase, slot: Slot, counts: tuple[int, int], agencies: Sequence[str],
              before_meeting: int = 0) -> ac.AdaptiveCard:
    """The card everyone in the channel sees: number, first name, the slot, and buttons.
    `before_meeting`: how many of the agencies sharing information returned it beforehand."""
    status = {"open": _clock(slot), "closed": "planning closed", "listed": "not opened yet",
              "deferred": "deferred", "exceptional": "exceptional"}[case.status]
    shared, agreed = counts
    beforehand = f" ({before_meeting} before the meeting)" if before_meeting else ""
    lines = [f"Status: {status}",
             f"{shared} {'agency has' if shared == 1 else 'agencies have'} shared information"
             f"{beforehand}; {agreed} {'action' if agreed == 1 else 'actions'} agreed."]
    if slot.remaining <= 0 and case.status == "open":
        lines.append(f"**Overrun: {slot.overrun // 60} min {slot.overrun % 60} s**")
    if case.declaration_pending:
        lines.append("A declaration of knowing someone in this case awaits the operations "
                     "manager's decision.")
    if case.exceptional:
        lines.append("Exceptional case: information recorded, no action planning.")
    items: list[Any] = [heading(f"{case.number} · {shown(case.victim_first_name)}"),
                        *[paragraph(line) for line in lines]]
    return build(items, list(_case_buttons(case.number, case.status == "open",
                                           tuple(agencies))))


def _case_buttons(number: str, is_open: bool, agencies: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(_numbered(button, number) for button in _case_button_forms(is_open, agencies))


# Drawn once per MARAC's agencies with no case number; each card gets copies with its number
# in the buttons' data (shallow copies along the way to each button: a tenth of drawing them).
@functools.lru_cache(maxsize=64)
def _case_button_forms(is_open: bool, agencies: tuple[str, ...]) -> tuple[Any, ...]:
    shown = execute("Show case details", "case.view", case="")
    if not is_open:
        return (shown,)
    return (shown, _show("Add agency information", _information_inputs("")),
            _show("Add an action", _action_inputs("", agencies)),
            _show("Victim contact", _contact_inputs("")))


def _numbered(button: Any, number: str) -> Any:
    if isinstance(button, ac.ActionExecute):
        return button.model_copy(update={"data": {**cast(dict[str, Any], button.data),
                                                  "case": number}})
    inner = button.card
    return button.model_copy(update={"card": inner.model_copy(update={
        "actions": [_numbered(action, number) for action in inner.actions]})})


def _show(title: str, inner: ac.AdaptiveCard) -> ac.ActionShowCard:
    return ac.ActionShowCard(title=title, card=inner)


def _information_inputs(number: str) -> ac.AdaptiveCard:
    return build([
        text_input("information", "What your agency holds", multiline=True, max_length=4000),
        choice_input("not_involved", "Not involved", [("No", "false"),
                                                      ("Not involved: systems flagged", "true")],
                     "false"),
        text_input("no_action_reason", "If no action of your agency follows, why",
                   max_length=1000),
    ], [execute("Share", "case.information", case=number)])


def _action_inputs(number: str, agencies: Sequence[str]) -> ac.AdaptiveCard:
    return build([
        choice_input("agency", "Owning agency", [(a, a) for a in agencies], required=True),
        text_input("owner", "Owner (first name)", required=True, max_length=100),
        text_input("description", "What is to be done", required=True, multiline=True),
        choice_input("for_whom", "For", [(f.title(), f) for f in FOR_WHOM], "victim"),
        text_input("risk", "The risk it addresses", required=True),
        ac.InputDate(id="due_on", label="Due", is_required=True),
    ], [execute("Add action", "case.action", case=number)])


def _contact_inputs(number: str) -> ac.AdaptiveCard:
    return build([text_input("victim_contact", "Who will update the victim", required=True)],
                 [execute("Save", "case.contact", case=number)])


def case_details_card(view: CaseView, slot: Slot) -> ac.AdaptiveCard:
    """The full case, for entitled people only."""
    case, referral = view.case, view.referral
    items: list[Any] = [heading(f"{case.number} · {shown(case.victim_first_name)}"),
                        paragraph(_clock(slot) if case.status.value == "open"
                                  else f"Status: {case.status.value}")]
    if referral is not None:
        items.append(facts([
            ("Qualifies by", ", ".join(r.replace("_", " ") for r in referral.qualifying_reasons)),
            ("DASH", f"{referral.dash_yes_count} of 24 yes"),
            ("Repeat", "yes: earlier plan below" if referral.repeat_of_id else "no"),
            ("Children", str(referral.children_in_household)),
        ]))
        items += _victim_sections(view)
    if view.risks:
        items.append(ac.TextBlock(text="Risks", weight=act.FontWeight.BOLDER))
        items.append(paragraph("; ".join(view.risks)))
    items.append(ac.TextBlock(text="Agency information", weight=act.FontWeight.BOLDER))
    items.append(facts([(line.agency, line.text) for line in view.information]))
    if view.earlier:
        items.append(ac.TextBlock(text=f"The last plan ({view.earlier[0].case_number}): "
                                  "what became of its actions", weight=act.FontWeight.BOLDER))
        items.append(facts([(a.agency, f"{a.description} — {a.shown}") for a in view.earlier]))
        if case.status.value == "open":
            items += _carry(case.number, [a for a in view.earlier if a.unfinished])
    # The earlier plan's copied lines add nothing once its outcomes are shown above.
    actions = [a for a in view.actions if not (view.earlier and a.from_earlier_plan)]
    items.append(ac.TextBlock(text="Actions", weight=act.FontWeight.BOLDER))
    items.append(facts([(f"{a.agency}{' (earlier plan)' if a.from_earlier_plan else ''}",
                         f"{a.description} — for the {a.for_whom}"
                         + (f"; owner {a.owner}" if a.owner else "")
                         + (f"; due {a.due_on.isoformat()}" if a.due_on else ""))
                        for a in actions]) if actions else paragraph("None yet."))
    items.append(paragraph(f"Updates the victim: {case.victim_contact or 'not named yet'}"))
    if case.exceptional:
        items.append(paragraph(f"Exceptional ({case.exceptional}): {case.exceptional_note}"))
    return build(items)


def _carry(number: str, unfinished: list[EarlierAction]) -> list[Any]:
    """The chair's buttons to carry an unfinished action into this plan, with its due date."""
    if not unfinished:
        return []
    return [ac.InputDate(id="carry_due", label="Due date for an action carried over"),
            ac.ActionSet(actions=[
                execute(f"Carry into this plan: {n}. {a.agency}", "case.carry", case=number,
                        earlier=a.action_id)
                for n, a in enumerate(unfinished, start=1)])]


def _victim_sections(view: CaseView) -> list[Any]:
    """The victim's voice and the equality profile: on the full view only, never shared."""
    referral = view.referral
    sections: list[Any] = []
    if referral is None:
        return sections
    if voice := voice_lines(referral.victim_voice):
        sections += [ac.TextBlock(text="The victim's voice", weight=act.FontWeight.BOLDER),
                     facts(voice)]
    labels = {"victim_age_band": "Age", **EQUALITY_LABELS}
    if equality := [(label, str(value)) for key, label in labels.items()
                    if (value := getattr(referral, key))]:
        sections += [ac.TextBlock(text="Equality", weight=act.FontWeight.BOLDER),
                     facts(equality)]
    return sections


def summary_card(marac_name: str, summary: Summary) -> ac.AdaptiveCard:
    def minutes(seconds: int) -> str:
        return f"{seconds // 60} min {seconds % 60} s"

    return build([
        heading(f"{marac_name}: meeting closed"),
        facts([
            ("Heard", ", ".join(summary.heard) or "none"),
            ("Deferred", ", ".join(summary.deferred) or "none"),
            ("Exceptional", ", ".join(summary.exceptional) or "none"),
            ("Not reached", ", ".join(summary.not_reached) or "none"),
            ("Time used", f"{minutes(summary.used_seconds)} of "
                          f"{minutes(summary.planned_seconds)} planned"),
        ]),
        ac.TextBlock(text="Actions agreed per agency", weight=act.FontWeight.BOLDER),
        facts([(agency, str(n)) for agency, n in summary.actions_per_agency])
        if summary.actions_per_agency else paragraph("No actions were agreed."),
    ])
