"""The commands and buttons of the plan after the meeting, in personal chat: `plan CASE`,
`plan CASE export`, `dissemination`, `my actions`, `update CASE`; the action owners'
Acknowledge, Done and Cannot complete, the operations manager's review of an action that
cannot be completed, and the update form's button. A refusal answers in one
sentence and changes nothing; pressing the same button twice does nothing twice."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import replace

from sqlalchemy import select

from bot.proactive.plan_delivery import send_to
from bot.turns.posts import Post
from bot.turns.press import InvokeAnswer, Press, card_answer, message_answer
from bot.turns.registry import (
    COORDINATORS,
    MANAGERS,
    PERSONAL_ONLY,
    PLAN_READERS,
    PLANNERS,
    REFERRERS,
    button,
    command,
)
from bot.turns.replies import Message, card_reply, text_reply
from bot.turns.request import Request
from cards.plan import (
    action_card,
    cannot_complete_notice,
    children_services_notice,
    dissemination_card,
    my_actions_card,
    plan_card,
    review_card,
    update_card,
)
from dialogs import acknowledgement, action_review, dissemination, plans
from dialogs.acknowledgement import Verb
from dialogs.action_review import Decision, Reassignment
from dialogs.ids import row_id
from dialogs.plan_updates import add_update
from dialogs.plans import NotEntitled, PlanError
from dialogs.refusal import Refusal
from storage.models import Marac


async def _zone(request: Request | Press) -> str:
    return await request.session.scalar(
        select(Marac.timezone).where(Marac.id == request.marac_id)) or "Europe/London"


@command("plan", "Show a case's current action plan, or export it as a document.",
         "plan CASE [export]", roles=PLAN_READERS, places=PERSONAL_ONLY)
async def _plan(request: Request) -> Message | list[Post]:
    words = request.arguments.split()
    if not words:
        raise PlanError("Name the case, e.g. **plan RIV-2026-001**.")
    if len(words) > 1 and words[1].lower() == "export":
        from bot.features.plan_export import export_reply

        return await export_reply(request, words[0])
    seen = await plans.show(request.session, request.marac_id, words[0],
                            request.context.actor.roles, request.context.actor.person_id)
    return card_reply(plan_card(seen, await _zone(request)),
                      f"Plan {seen.plan.case_number}")


@command("dissemination", "What each plan's dissemination has sent, and the time left.",
         "dissemination", roles=COORDINATORS, places=PERSONAL_ONLY)
async def _dissemination(request: Request) -> Message:
    now = request.clock.now()
    states = await dissemination.status(request.session, request.marac_id, now)
    return card_reply(dissemination_card(states, now, await _zone(request)), "Dissemination")


@command("my", "List your open actions across cases.", "my actions",
         roles=REFERRERS, places=PERSONAL_ONLY, title="my actions")
async def _my(request: Request) -> Message:
    if request.arguments.strip().lower() != "actions":
        return text_reply("Type **my actions** to list your open actions.")
    person_id = request.context.actor.person_id
    if person_id is None:
        raise PlanError("You are not one of this MARAC's people.")
    return card_reply(my_actions_card(await acknowledgement.open_actions(
        request.session, person_id, request.marac_id)), "Your open actions")


@command("update", "Add new information to a case's plan after the meeting.",
         "update CASE", roles=PLANNERS, places=PERSONAL_ONLY, menu=False)
async def _update(request: Request) -> Message:
    number = request.arguments.split()[0] if request.arguments.split() else ""
    case = await plans.case_numbered(request.session, request.marac_id, number)
    await plans.may_see(request.session, request.context.actor.roles,
                        request.context.actor.person_id, case)
    return card_reply(update_card(case.number), f"Update: {case.number}")


# --- buttons ---------------------------------------------------------------------------------

_id = row_id


def _follow_up(press: Press) -> int:
    follow_up = _id(press.data.get("follow_up"))
    if follow_up is None:
        raise PlanError("That button does not name an action.")
    return follow_up


def _text(press: Press, key: str) -> str:
    value = press.data.get(key, "")
    return value if isinstance(value, str) else ""


def _answering(verb: Verb, key: str) -> Callable[[Press], Awaitable[InvokeAnswer]]:
    async def run(press: Press) -> InvokeAnswer:
        now = press.clock.now()
        answered = await acknowledgement.answer(press.session, _follow_up(press),
                                                press.person_id, verb, _text(press, key), now)
        if answered.changed and verb is Verb.CANNOT:
            note = text_reply(cannot_complete_notice(answered.action, answered.answered_by,
                                                     answered.action.note),
                              f"Action cannot be completed: {answered.action.case_number}")
            _, agencies = await action_review.review_of(press.session,
                                                        answered.action.follow_up_id)
            with_review = replace(card_reply(review_card(answered.action, agencies), note.summary),
                                  text=note.text)
            for person_id in answered.tell:
                send_to(press.session, with_review if person_id in answered.reviewers else note,
                        "action cannot be completed", now, person_id)
        return card_answer(action_card(answered.action))
    return run


async def _action_again(press: Press, refused: Refusal) -> InvokeAnswer:
    """A refused answer to an action: the action's card again with why, to its owner."""
    follow_up = _id(press.data.get("follow_up"))
    if isinstance(refused, NotEntitled) or follow_up is None:
        return message_answer(str(refused))
    try:
        shown = await acknowledgement.owned(press.session, follow_up)
    except PlanError:
        return message_answer(str(refused))
    return card_answer(action_card(shown, str(refused)))


def _owner_button(verb: str, summary: str, answer: Verb, key: str) -> None:
    button(f"action.{verb}", summary, roles=REFERRERS, places=PERSONAL_ONLY,
           refused=_action_again)(_answering(answer, key))


_owner_button("acknowledge", "Acknowledge an action you own.", Verb.ACKNOWLEDGE, "note")
_owner_button("done", "Mark your action done, with a note.", Verb.DONE, "note")
_owner_button("cannot", "Say your action cannot be completed, with the reason.", Verb.CANNOT,
              "reason")


async def _review_again(press: Press, refused: Refusal) -> InvokeAnswer:
    """A refused review: the review card again with why, to the operations manager."""
    follow_up = _id(press.data.get("follow_up"))
    if isinstance(refused, NotEntitled) or follow_up is None:
        return message_answer(str(refused))
    try:
        shown = await acknowledgement.owned(press.session, follow_up)
    except PlanError:
        return message_answer(str(refused))
    reviewed, agencies = await action_review.review_of(press.session, follow_up)
    return card_answer(review_card(shown, agencies, reviewed, str(refused)))


@button("action.review", "Review an action that cannot be completed: accept, reassign, close.",
        roles=MANAGERS, places=PERSONAL_ONLY, refused=_review_again)
async def _review(press: Press) -> InvokeAnswer:
    now = press.clock.now()
    try:
        decision = Decision(_text(press, "decision"))
    except ValueError as error:
        raise PlanError("Choose to accept, reassign or close the action.") from error
    to = Reassignment(_text(press, "agency"), _text(press, "owner"), _text(press, "due_on")
                      ) if decision is Decision.REASSIGNED else None
    reviewed = await action_review.review(press.session, _follow_up(press), press.person_id,
                                          decision, _text(press, "reason"), to, now)
    if reviewed.successor is not None and reviewed.new_owner is not None:
        successor = await acknowledgement.owned(press.session, reviewed.successor)
        card = card_reply(action_card(successor), f"Action: {successor.case_number}")
        send_to(press.session, card, "action", now, reviewed.new_owner)
    _, agencies = await action_review.review_of(press.session, reviewed.action.follow_up_id)
    return card_answer(review_card(reviewed.action, agencies, reviewed.decision.value))


@button("plan.update", "Add new information to a plan.", roles=PLANNERS,
        places=PERSONAL_ONLY, refused=_action_again)
async def _add_update(press: Press) -> InvokeAnswer:
    now = press.clock.now()
    inputs = json.dumps(press.data, sort_keys=True, default=str)
    key = f"{press.message_id}:{hashlib.sha256(inputs.encode()).hexdigest()}"
    updated = await add_update(
        press.session, press.marac_id, str(press.data.get("case", "")), _text(press, "text"),
        _text(press, "risk_raised").lower() == "true", press.context.actor.roles,
        press.person_id, now, key)
    if not updated.repeated and updated.children_services_by is not None:
        note = text_reply(children_services_notice(
            updated.case.number, updated.agency, updated.children_services_by,
            updated.tell_is_referrer, await _zone(press)),
            f"Update children's services: {updated.case.number}")
        for person_id in updated.tell:
            send_to(press.session, note, "children's services update", now, person_id)
    return message_answer(
        f"Added to the plan for {updated.case.number} as version {updated.version.version}"
        + (": the referring agency is told to update children's services within 24 hours."
           if updated.children_services_by is not None else "."))
