"""The one way every typed command and every card button is served, once each:

replay check → unit of work → who is acting → the table's refusal → the handler inside one
savepoint, a Refusal rolling it back → an audit row with the real outcome → the answer.

The replay check is for typed messages, which Teams may deliver twice; a button's dialog
makes a second press of the same card do nothing twice.

A refusal (the table's or the handler's) answers in one sentence and changes nothing but the
audit trail, which stores it as refused, with its reason."""

from __future__ import annotations

import logging
from typing import Any, TypeVar, cast

from bot.ops import telemetry
from bot.turns import registry
from bot.turns.access import (
    NotThisTenant,
    audit,
    context_of,
    named_marac,
    pressed_marac,
    refusal,
)
from bot.turns.arrival import Arrival
from bot.turns.posts import Post
from bot.turns.press import Invoke, InvokeAnswer, Press, message_answer
from bot.turns.registry import Command
from bot.turns.replies import Message, text_reply
from bot.turns.request import Request
from cards import notice
from dialogs.clock import Clock, FixedClock
from dialogs.refusal import Refusal
from dialogs.replay import first_delivery
from storage.database import Store

log = logging.getLogger(__name__)
T = TypeVar("T", Request, Press)


def is_command(arrival: Arrival) -> bool:
    """A typed message that names a command (handle_message opens a unit of work for it)."""
    return bool(registry.parse(arrival.text).name)


async def handle_message(arrival: Arrival, store: Store, clock: Clock,
                         tenants: frozenset[str] | None = None) -> list[Post]:
    """With `tenants` (the allow-list), the tenant is checked in the command's one unit of
    work: a tenant the bot does not serve is told so, and that unit of work is rolled back."""
    typed = registry.parse(arrival.text)
    if not typed.name:
        return []
    try:
        return await _command(arrival, typed, store, at_one_instant(clock), tenants)
    except NotThisTenant:
        log.info("refused an activity from tenant %s", arrival.tenant_id)
        return [Post(text_reply(notice.not_this_tenant()))]


async def _command(arrival: Arrival, typed: registry.ParsedCommand, store: Store,
                   clock: Clock, tenants: frozenset[str] | None) -> list[Post]:
    async with store.unit_of_work() as session:
        if arrival.activity_id and not await first_delivery(
                session, arrival.conversation_id, arrival.activity_id, clock.now()):
            if tenants is not None:  # a replay is answered as the first delivery was
                await context_of(session, arrival, tenants=tenants)
            return []  # Teams delivered it again: it was answered the first time
        command = registry.find(typed.name)
        named, arguments = await named_marac(session, arrival, typed.arguments)
        context = await context_of(session, arrival, command, tenants=tenants, named=named)
        if command is None:
            listed = registry.available(context.actor.roles, context.place)
            return [Post(text_reply(notice.unknown_command(
                typed.name, registry.closest(typed.name, listed))))]
        request = Request(session, context, arguments, clock, arrival)
        reply, refused = await _serve(command, request, _subject(arguments))
    return posts_of(reply, refused)


async def handle_press(arrival: Arrival, invoke: Invoke, store: Store, clock: Clock,
                       tenants: frozenset[str] | None = None
                       ) -> tuple[InvokeAnswer, list[tuple[str, Message]], list[Message]]:
    """The answer to the presser, the shared cards to update for everyone, and new messages
    for the presser's conversation (none of either when the press is refused).

    With `tenants` (the allow-list), the tenant is checked in the press's one unit of work: a
    tenant the bot does not serve is told so, and that unit of work is rolled back."""
    if invoke.button is None:
        return message_answer(notice.unknown_button()), [], []
    clock = at_one_instant(clock)
    try:
        async with store.unit_of_work() as session:
            context = await context_of(session, arrival, tenants=tenants, named=await
                                        pressed_marac(session, arrival, invoke.data))
            press = Press(session, context, invoke.data, arrival.reply_to_id, clock, arrival)
            subject = _case_named(invoke.data)
            answer, refused = await _serve(invoke.button, press, subject)
            telemetry.pressed(invoke.button.name, subject, refused is not None)
    except NotThisTenant:
        log.info("refused an activity from tenant %s", arrival.tenant_id)
        return message_answer(notice.not_this_tenant()), [], []
    return press_answer(press, answer, refused), press.updates, press.posts


async def _serve(entry: Command, turn: T, subject: str) -> tuple[Any, str | None]:
    """The table's check, then the handler; audited as it turned out, done or refused."""
    refused = refusal(entry, turn.context)
    answer = None
    if refused is None:
        answer, refused = await handled(entry, turn)
    await audit(turn.session, turn.context, turn.arrival, entry.name, turn.clock.now(),
                subject=subject, refused=refused)
    return answer, refused


async def handled(entry: Command, turn: T) -> tuple[Any, str | None]:
    """The handler's answer, run in a savepoint (unless it `checks_first`). On a Refusal
    nothing it did is kept, and the answer is the entry's own to a refusal (e.g. its card
    again, saying why), if it has one, with the reason."""
    handler = entry.handler
    assert handler is not None  # every entry is declared on its handler
    if entry.checks_first:  # it refuses before writing: nothing to undo
        try:
            return await handler(turn), None
        except Refusal as refused:
            return (await entry.refused(turn, refused) if entry.refused else None), str(refused)
    nested = await turn.session.begin_nested()
    try:
        answer = await handler(turn)
    except Refusal as refused:
        await nested.rollback()
        return (await entry.refused(turn, refused) if entry.refused else None), str(refused)
    await nested.commit()
    return answer, None


def at_one_instant(clock: Clock) -> Clock:
    """A turn happens at one instant: what it records, checks and shows all read the same
    time (and the clock is read once, not at every step)."""
    return FixedClock(clock.now())


def posts_of(reply: Any, refused: str | None) -> list[Post]:
    if refused is not None:
        return [Post(text_reply(refused))]
    return reply if isinstance(reply, list) else [Post(reply)]


def press_answer(press: Press, answer: Any, refused: str | None) -> InvokeAnswer:
    if refused is None:
        return cast(InvokeAnswer, answer)
    press.updates.clear()  # a refused press changes no one's card and posts nothing
    press.posts.clear()
    return cast(InvokeAnswer, answer or message_answer(refused))


def _subject(arguments: str) -> str:
    """A case number named in the command, for the audit trail; nothing else is kept."""
    first = arguments.split(maxsplit=1)[0] if arguments.strip() else ""
    return first if first.count("-") == 2 and first[-1:].isdigit() else ""


def _case_named(data: dict[str, Any]) -> str:
    return str(data.get("case") or data.get("case_number") or data.get("referral_id") or "")
