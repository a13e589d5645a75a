"""The cards of the plan after the meeting: the plan itself (1:1 only: it goes to entitled
people in personal chat, never to a shared channel), each action owner's card with its
buttons, the coordinator's dissemination view, `my actions`, the update form, and the
sentences of the notices sent with them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from adaptive_cards import card as ac
from adaptive_cards import types as act

from cards.base import build, choice_input, execute, facts, heading, paragraph, text_input
from dialogs.acknowledgement import OwnedAction
from dialogs.dissemination import CaseState
from dialogs.plans import Plan, PlanSeen

LONDON = "Europe/London"
STATUS_LABEL = {"open": "not yet acknowledged", "acknowledged": "acknowledged",
                "done": "done", "cannot_complete": "cannot be completed"}


def _when(instant: datetime | str, zone: str = LONDON) -> str:
    moment = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
    return moment.astimezone(ZoneInfo(zone)).strftime("%a %d %b %Y, %H:%M")


def _bold(text: str) -> ac.TextBlock:
    return ac.TextBlock(text=text, weight=act.FontWeight.BOLDER, wrap=True)


# Teams refuses a message over about 28 KB. A plan has no such bound (six agencies may share
# 4,000 characters each, updates keep coming), so each entry is shown up to a length, the
# longest that lets the card fit, and the Word document holds it all.
CARD_BUDGET = 24 * 1024  # bytes of card JSON, leaving room for the message around it
LENGTHS = (4000, 1500, 800, 400, 200, 100)
CONTINUED = "… (continued in the document)"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit].rstrip()} {CONTINUED}"


def _fitted(heading_items: list[Any], plan: Plan, zone: str) -> ac.AdaptiveCard:
    """The card at the longest length of entry that keeps it inside CARD_BUDGET."""
    for limit in LENGTHS:
        items = [*heading_items, *plan_items(plan, zone, limit)]
        if CONTINUED in build(items).to_json():
            items.append(paragraph(
                f"Entries longer than {limit:,} characters are cut here. The Word document "
                f"has the whole plan: it is emailed to agencies' secure mailboxes, and the "
                f"coordinator can send it with **plan {plan.case_number} export**.",
                subtle=True))
        card = build(items)
        if len(card.to_json().encode()) <= CARD_BUDGET:
            break
    return card


def plan_items(plan: Plan, zone: str = LONDON, limit: int = LENGTHS[0]) -> list[Any]:
    items: list[Any] = [paragraph(f"{plan.marac}, meeting of {_when(plan.meeting_at, zone)}"
                                  + (" · closed panel" if plan.closed_panel else ""))]
    if plan.referral:
        referral = plan.referral
        items.append(facts([
            ("Referred by", referral.get("referring_agency") or "not recorded"),
            ("Qualifies by", ", ".join(r.replace("_", " ") for r in referral.get("reasons", []))
             or "not recorded"),
            ("DASH", f"{referral.get('dash_yes', 0)} of 24 yes"),
            ("Children", str(referral.get("children", 0))),
        ]))
    if plan.exceptional:
        items.append(paragraph(f"Exceptional ({plan.exceptional}): "
                               f"{_cut(plan.exceptional_note, limit)} "
                               "Information is shared and recorded; no actions are planned."))
    items.append(_bold("Responsible (everyone present; no one person signs it off)"))
    items.append(paragraph(", ".join(plan.responsible) or "No attendance was recorded."))
    if plan.risks:
        items.append(_bold("Risks"))
        items.append(paragraph(_cut("; ".join(plan.risks), limit)))
    items.append(_bold("Agency information"))
    items.append(facts([(agency, _cut(text, limit)) for agency, text in plan.information])
                 if plan.information
                 else paragraph("None recorded."))
    items.append(_bold("Actions"))
    if plan.actions:
        items.append(facts([(
            f"{a.agency}{' (from the referral)' if a.origin == 'prepopulated' else ''}",
            f"{_cut(a.description, limit)} — for the {a.for_whom}"
            + (f"; owner {a.owner}" if a.owner else "")
            + (f"; due {a.due_on}" if a.due_on else "")
            + (f"; risk: {a.risk}" if a.risk else "")
            + f"; {STATUS_LABEL.get(a.status, a.status)}"
            + (f" ({_cut(a.note, limit)})" if a.note else ""))
            for a in plan.actions]))
    else:
        items.append(paragraph("No actions."))
    items.append(paragraph(f"Updates the victim: {plan.victim_contact or 'not named'}"))
    if plan.earlier_plan or plan.earlier_actions:
        items.append(_bold("Earlier plan (a repeat; for information)"))
        if plan.earlier_plan:
            items.append(paragraph(_cut(plan.earlier_plan, limit)))
        if plan.earlier_actions:
            items.append(paragraph(_cut("; ".join(plan.earlier_actions), limit)))
    if plan.updates:
        items.append(_bold("New information after the meeting"))
        items.append(facts([(f"{_when(u.at, zone)} · {u.by}",
                             ("RISK RAISED: " if u.risk_raised else "") + _cut(u.text, limit))
                            for u in plan.updates]))
    return items


def plan_card(seen: PlanSeen, zone: str = LONDON) -> ac.AdaptiveCard:
    """The plan, for entitled people in personal chat."""
    plan = seen.plan
    return _fitted([
        heading(f"Plan {plan.case_number} · {plan.victim_first_name}"),
        paragraph(f"Version {seen.version} of {seen.versions}, {_when(seen.created_at, zone)}, "
                  f"by {seen.changed_by}: {_cut(seen.change, 300)} {_cut(seen.reason, 1000)}",
                  subtle=True),
    ], plan, zone)


def disseminated_card(plan: Plan, zone: str = LONDON) -> ac.AdaptiveCard:
    """The plan as it is sent out after the meeting."""
    return _fitted([
        heading(f"MARAC action plan {plan.case_number} · {plan.victim_first_name}"),
        paragraph("Shared under the information sharing agreement: proportionate and on a "
                  "need-to-know basis only. Type **plan " + plan.case_number + "** for the "
                  "current version.", subtle=True),
    ], plan, zone)


def action_card(action: OwnedAction, problem: str | None = None) -> ac.AdaptiveCard:
    """An action owner's card: Acknowledge, Done (with a note), Cannot complete (reason)."""
    items: list[Any] = [
        heading(f"Action for {action.agency}: {action.case_number} · "
                f"{action.victim_first_name}"),
        paragraph(action.description),
        facts([("For", f"the {action.for_whom}"), ("Owner", action.owner or action.agency),
               ("Risk", action.risk or "not recorded"),
               ("Due", action.due_on.strftime("%a %d %b %Y") if action.due_on else "no date"),
               ("Status", STATUS_LABEL[action.status.value]
                + (f": {action.note}" if action.note else ""))]),
    ]
    if problem:
        items.append(ac.TextBlock(text=problem, color=act.Colors.ATTENTION, wrap=True))
    actions: list[Any] = []
    data = {"follow_up": action.follow_up_id}
    if action.awaits_acknowledgement:
        actions.append(execute("Acknowledge", "action.acknowledge", **data))
    if action.is_open:
        actions.append(ac.ActionShowCard(title="Done", card=build(
            [text_input("note", "What was done (optional)", multiline=True, max_length=1000)],
            [execute("Mark done", "action.done", **data)])))
        actions.append(ac.ActionShowCard(title="Cannot complete", card=build(
            [text_input("reason", "Why it cannot be completed", required=True,
                        multiline=True, max_length=1000)],
            [execute("Send to the coordinator", "action.cannot", **data)])))
    return build(items, actions)


def my_actions_card(actions: Sequence[OwnedAction]) -> ac.AdaptiveCard:
    if not actions:
        return build([heading("Your open actions"), paragraph("You have no open actions.")])
    return build([
        heading("Your open actions"),
        facts([(f"{a.case_number} · due {a.due_on.strftime('%d %b') if a.due_on else '—'}",
                f"{a.description} ({STATUS_LABEL[a.status.value]}; action {a.follow_up_id})")
               for a in actions]),
        paragraph("Each action's card in this chat has its Acknowledge, Done and Cannot "
                  "complete buttons.", subtle=True),
    ])


def _left(deadline: datetime | None, now: datetime) -> str:
    if deadline is None:
        return "clock starts when the meeting ends"
    left = deadline - now
    if left <= timedelta(0):
        return f"{_hours(-left)} past the 48-hour deadline"
    return f"{_hours(left)} left of 48"


def _hours(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def dissemination_card(states: Sequence[CaseState], now: datetime, zone: str = LONDON
                       ) -> ac.AdaptiveCard:
    """The coordinator's view: per case, what is sent, pending, failed and withheld, and the
    time against the 48-hour deadline."""
    items: list[Any] = [heading("Dissemination")]
    if not states:
        items.append(paragraph("No plans have been disseminated in the last two weeks."))
    for state in states:
        title = state.number if state.closed_panel else f"{state.number} · {state.first_name}"
        done = state.delivered_at
        if done is not None and state.deadline_at is not None:
            timing = (f"every agency had it {_when(done, zone)}, "
                      f"{_hours(state.deadline_at - done)} inside the deadline"
                      if done <= state.deadline_at else
                      f"every agency had it {_when(done, zone)}, "
                      f"{_hours(done - state.deadline_at)} late")
        elif done is not None:
            timing = f"every agency had it {_when(done, zone)}"
        else:
            timing = _left(state.deadline_at, now)
        items.append(_bold(title))
        items.append(paragraph(
            f"{state.count('delivered')} sent · {state.count('pending')} pending · "
            f"{state.count('failed')} failed · {state.count('withheld')} withheld · {timing}"))
        items.append(facts([(a.agency, a.state + (f": {a.detail}" if a.detail else ""))
                            for a in state.agencies]))
    return build(items)


def update_card(number: str, problem: str | None = None, text: str = "") -> ac.AdaptiveCard:
    items: list[Any] = [
        heading(f"New information for {number}"),
        paragraph("Your update becomes a new version of the plan. If it raises the risk, the "
                  "referring agency is told to update children's services within 24 hours."),
        text_input("text", "What is new", text, required=True, multiline=True,
                   max_length=4000),
        choice_input("risk_raised", "Does it raise the risk?",
                     [("No", "false"), ("Yes: the risk is raised", "true")], "false"),
    ]
    if problem:
        items.append(ac.TextBlock(text=problem, color=act.Colors.ATTENTION, wrap=True))
    return build(items, [execute("Add to the plan", "plan.update", case=number)])


# --- the sentences of the notices ----------------------------------------------------------

def withheld_notice(number: str, withheld: Sequence[tuple[str, str]],
                    unsent_actions: Sequence[str]) -> str:
    lines = [f"The plan for {number} is going out. Not sent:"]
    lines += [f"- {agency}: {why}" for agency, why in withheld]
    if unsent_actions:
        lines.append("Actions whose owners cannot be sent their card: "
                     + "; ".join(unsent_actions))
    return "\n\n".join(lines)


def failure_notice(number: str, agency: str, reason: str) -> str:
    return (f"The plan for {number} could not be delivered to {agency} after every retry: "
            f"{reason or 'no reason given'}. Please send it another way and keep the record.")


def alert_notice(states: Sequence[CaseState], to_manager: bool, now: datetime) -> str:
    lines = [f"{state.number}: not yet with "
             + ", ".join(f"{a.agency} ({a.state})" for a in state.undelivered)
             + f"; {_left(state.deadline_at, now)}" for state in states]
    if to_manager:
        head = ("These plans have not reached every agency 48 hours after the meeting; the "
                "coordinator was alerted at 36 hours:")
    else:
        head = ("These plans have still not reached every agency 36 hours after the meeting. "
                "Type **dissemination** for the detail:")
    return "\n\n".join([head, *(f"- {line}" for line in lines)])


def cannot_complete_notice(action: OwnedAction, by: str, reason: str) -> str:
    return (f"{by} says an action on {action.case_number} cannot be completed: "
            f"{action.agency}: {action.description} — because: {reason}. The plan is updated; "
            "the operations manager decides on follow-up.")


REVIEWED = {"accepted": "accepted as it cannot be completed",
            "reassigned": "reassigned to another agency", "closed": "closed"}


def review_card(action: OwnedAction, agencies: Sequence[str], reviewed: str = "",
                problem: str | None = None) -> ac.AdaptiveCard:
    """The operations manager's review of an action that cannot be completed: accept it,
    reassign it to another agency with a new owner, or close it with a reason."""
    items: list[Any] = [
        heading(f"Review: {action.case_number} · {action.victim_first_name}"),
        paragraph(action.description),
        facts([("Agency", action.agency), ("Owner", action.owner or action.agency),
               ("Why not", action.note or "not given"),
               ("Review", REVIEWED.get(reviewed, "awaiting your decision"))]),
    ]
    if problem:
        items.append(ac.TextBlock(text=problem, color=act.Colors.ATTENTION, wrap=True))
    if reviewed:
        return build(items)
    data = {"follow_up": action.follow_up_id}
    return build(items, [
        ac.ActionShowCard(title="Accept", card=build(
            [text_input("reason", "Note (optional)", multiline=True, max_length=1000)],
            [execute("Accept", "action.review", decision="accepted", **data)])),
        ac.ActionShowCard(title="Reassign", card=build(
            [choice_input("agency", "Agency", [(a, a) for a in agencies], required=True),
             text_input("owner", "New owner's first name", required=True, max_length=100),
             text_input("due_on", "Due date (YYYY-MM-DD)", required=True, max_length=10),
             text_input("reason", "Why (optional)", multiline=True, max_length=1000)],
            [execute("Reassign", "action.review", decision="reassigned", **data)])),
        ac.ActionShowCard(title="Close", card=build(
            [text_input("reason", "Why it is closed", required=True, multiline=True,
                        max_length=1000)],
            [execute("Close", "action.review", decision="closed", **data)])),
    ])


def overdue_notice(action: OwnedAction, working_days: int, to_manager: bool) -> str:
    due = action.due_on.strftime("%d %B %Y") if action.due_on else "its due date"
    head = (f"An action on {action.case_number} is still open {working_days} working days "
            f"after it was due ({due}): {action.agency} ({action.owner}): {action.description}")
    if to_manager:
        return (f"{head}. The coordinator was told at 2 working days; please decide on "
                "follow-up with the agency.")
    return (f"{head}. Please chase the owning agency; the operations manager is told at 5 "
            "working days.")


def reminder_notice(action: OwnedAction, due: bool) -> str:
    if due:
        return (f"Your action on {action.case_number} is due today: {action.description}. "
                "Mark it done, or say why it cannot be completed, on its card.")
    return (f"Please acknowledge your action on {action.case_number}: {action.description} "
            "(sent 2 working days ago).")


def children_services_notice(number: str, agency: str, by: datetime, referrer: bool,
                             zone: str = LONDON) -> str:
    if referrer:
        return (f"New information on {number} from {agency or 'an agency'} raises the risk. As "
                f"the referring agency, please update children's services within 24 hours, by "
                f"{_when(by, zone)}.")
    return (f"New information on {number} raises the risk and its referring agency is not on "
            f"record: please make sure children's services are updated by {_when(by, zone)}.")
