"""`dispute CASE what` (any representative), `complaint CASE what` and `breach CASE what`; the
operations manager's `escalate ID note` and `resolve ID note` (dialogs.governance). Personal
chat only; each press is audited by the pipeline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.turns.posts import Post
from bot.turns.registry import MANAGERS, PERSONAL_ONLY, REPRESENTATIVES, command
from bot.turns.replies import Message, card_reply, text_reply
from bot.turns.request import Request
from cards.people import subject_access_card
from dialogs import governance, subject_access
from dialogs.governance import OPENERS, GovernanceError
from dialogs.ids import row_id


def _opener(kind: str) -> Callable[[Request], Awaitable[Message]]:
    async def run(request: Request) -> Message:
        number, _, about = request.arguments.strip().partition(" ")
        if not number:
            raise GovernanceError(f"Name the case, e.g. **{kind} RIV-2026-001 what it is "
                                  "about**.")
        record = await governance.open_record(
            request.session, request.marac_id, kind, number, about,
            request.context.actor.roles, request.context.actor.person_id, request.clock.now())
        return text_reply(f"{kind.capitalize()} {record.id} on {number.upper()} recorded, "
                          f"at its first step ({governance.step_name(1)}). The operations "
                          "manager moves it on.")
    return run


command("dispute", "Open a dispute on a case's decision or action.", "dispute CASE WHAT",
        roles=REPRESENTATIVES, places=PERSONAL_ONLY,
        menu=False)(_opener("dispute"))
command("complaint", "Record a complaint about a case.", "complaint CASE WHAT", roles=OPENERS,
        places=PERSONAL_ONLY, menu=False)(_opener("complaint"))
command("breach", "Record a breach of the protocol on a case.", "breach CASE WHAT",
        roles=OPENERS, places=PERSONAL_ONLY, menu=False)(_opener("breach"))


def _record_id(arguments: str) -> tuple[int, str]:
    word, _, note = arguments.strip().partition(" ")
    found = row_id(word)
    if found is None:
        raise GovernanceError("Name the record by its number, e.g. **escalate 3 reason**.")
    return found, note


@command("escalate", "Move a dispute, complaint or breach to its next step.",
         "escalate ID NOTE", roles=MANAGERS, places=PERSONAL_ONLY, menu=False)
async def _escalate(request: Request) -> Message:
    record_id, note = _record_id(request.arguments)
    record = await governance.escalate(request.session, request.marac_id, record_id,
                                       request.context.actor.roles,
                                       request.context.actor.person_id, note,
                                       request.clock.now())
    return text_reply(f"{record.kind.capitalize()} {record.id} is now with the "
                      f"{governance.step_name(record.step)} (step {record.step} of 4).")


@command("resolve", "Close a dispute, complaint or breach with how it was resolved.",
         "resolve ID NOTE", roles=MANAGERS, places=PERSONAL_ONLY, menu=False)
async def _resolve(request: Request) -> Message:
    record_id, note = _record_id(request.arguments)
    record = await governance.resolve(request.session, request.marac_id, record_id,
                                      request.context.actor.roles,
                                      request.context.actor.person_id, note,
                                      request.clock.now())
    return text_reply(f"{record.kind.capitalize()} {record.id} resolved.")


@command("disclose", "Record a disclosure to a court under its order, and review the "
         "redacted plan to export.", "disclose CASE ORDER", roles=MANAGERS,
         places=PERSONAL_ONLY, menu=False)
async def _disclose(request: Request) -> list[Post]:
    number, _, order = request.arguments.strip().partition(" ")
    record, reference = await governance.record_disclosure(
        request.session, request.marac_id, number, order, request.context.actor.person_id,
        request.clock.now())
    said = (f"Disclosure {record.id} of {number.upper()} to the court recorded under order "
            f"{record.court_order_ref}.")
    if reference is None:
        return [Post(text_reply(said + " The case has no referral on record to export."))]
    held = await subject_access.gather(request.session, request.marac_id, reference)
    return [Post(text_reply(said + " Review the redacted record below, then export it.")),
            Post(card_reply(subject_access_card(held, request.marac_id),
                            "Disclosure to a court"))]
