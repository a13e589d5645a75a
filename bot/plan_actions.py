"""The commands and buttons of the plan after the meeting, in personal chat: `plan CASE`,
`plan CASE export`, `dissemination`, `my actions`, `update CASE`; the action owners'
Acknowledge, Done and Cannot complete, and the update form's button. A refusal answers in one
sentence and changes nothing; pressing the same button twice does nothing twice."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable

from botbuilder.schema import Activity
from sqlalchemy import select

from bot.plan_delivery import send_to
from bot.posts import Post
from bot.press import InvokeAnswer, Press, card_answer, message_answer
from bot.replies import card_reply, text_reply
from bot.request import CommandHandler, Request
from cards.plan import (
    action_card,
    cannot_complete_notice,
    children_services_notice,
    dissemination_card,
    my_actions_card,
    plan_card,
    update_card,
)
from dialogs import acknowledgement, dissemination, plans
from dialogs.acknowledgement import Verb
from dialogs.plan_updates import add_update
from dialogs.plans import NotEntitled, PlanError
from storage.models import Marac, Role


async def _zone(request: Request | Press) -> str:
    return await request.session.scalar(
        select(Marac.timezone).where(Marac.id == request.marac_id)) or "Europe/London"


async def _plan(request: Request) -> Activity | list[Post]:
    words = request.arguments.split()
    if not words:
        raise PlanError("Name the case, e.g. **plan RIV-2026-001**.")
    if len(words) > 1 and words[1].lower() == "export":
        from bot.plan_export import export_reply

        return await export_reply(request, words[0])
    seen = await plans.show(request.session, request.marac_id, words[0],
                            request.context.actor.roles, request.context.actor.person_id)
    return card_reply(plan_card(seen, await _zone(request)),
                      f"Plan {seen.plan.case_number}")


async def _dissemination(request: Request) -> Activity:
    now = request.clock.now()
    states = await dissemination.status(request.session, request.marac_id, now)
    return card_reply(dissemination_card(states, now, await _zone(request)), "Dissemination")


async def _my(request: Request) -> Activity:
    if request.arguments.strip().lower() != "actions":
        return text_reply("Type **my actions** to list your open actions.")
    person_id = request.context.actor.person_id
    if person_id is None:
        raise PlanError("You are not one of this MARAC's people.")
    return card_reply(my_actions_card(await acknowledgement.open_actions(request.session,
                                                                         person_id)),
                      "Your open actions")


async def _update(request: Request) -> Activity:
    number = request.arguments.split()[0] if request.arguments.split() else ""
    case = await plans.case_numbered(request.session, request.marac_id, number)
    await plans.may_see(request.session, request.context.actor.roles,
                        request.context.actor.person_id, case)
    return card_reply(update_card(case.number), f"Update: {case.number}")


def _guarded(handler: CommandHandler) -> CommandHandler:
    async def run(request: Request) -> list[Post]:
        nested = await request.session.begin_nested()
        try:
            reply = await handler(request)
        except PlanError as refused:
            await nested.rollback()
            return [Post(text_reply(str(refused)))]
        await nested.commit()
        return reply if isinstance(reply, list) else [Post(reply)]
    return run


PLAN_HANDLERS: dict[str, CommandHandler] = {name: _guarded(handler) for name, handler in {
    "plan": _plan, "dissemination": _dissemination, "my": _my, "update": _update,
}.items()}


# --- buttons ---------------------------------------------------------------------------------

def _id(value: object) -> int | None:
    """A row id from a card's data: a whole number as Teams sends it, nothing else."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


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
            for person_id in answered.tell:
                send_to(press.session, note, "action cannot be completed", now, person_id)
        return card_answer(action_card(answered.action))
    return run


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


def _refusing(button: Callable[[Press], Awaitable[InvokeAnswer]]
              ) -> Callable[[Press], Awaitable[InvokeAnswer]]:
    async def run(press: Press) -> InvokeAnswer:
        nested = await press.session.begin_nested()
        try:
            answer = await button(press)
        except PlanError as refused:
            await nested.rollback()
            follow_up = _id(press.data.get("follow_up"))
            if not isinstance(refused, NotEntitled) and follow_up is not None:
                try:
                    shown = await acknowledgement.owned(press.session, follow_up)
                except PlanError:
                    return message_answer(str(refused))
                return card_answer(action_card(shown, str(refused)))
            return message_answer(str(refused))
        await nested.commit()
        return answer
    return run


PLAN_BUTTONS: dict[str, Callable[[Press], Awaitable[InvokeAnswer]]] = {
    verb: _refusing(button) for verb, button in {
        "action.acknowledge": _answering(Verb.ACKNOWLEDGE, "note"),
        "action.done": _answering(Verb.DONE, "note"),
        "action.cannot": _answering(Verb.CANNOT, "reason"),
        "plan.update": _add_update,
    }.items()
}

PLAN_READERS = frozenset(Role) - {Role.OBSERVER}
