"""`report [PERIOD] [csv|docx]`: the MARAC's figures for a period as a card with charts, in
personal chat (the coordinator and the operations manager); with csv or docx, the SafeLives
return or the steering group's report offered as a file through Teams' file consent card, as
the plan export is. `marac report` writes the same files from the console."""

from __future__ import annotations

from datetime import date
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity
from botbuilder.schema.teams import FileConsentCardResponse

from bot.files import offer, upload
from bot.replies import text_reply
from bot.report_export import RENDER, file_name
from bot.request import CommandHandler, Request
from cards.report import report_card
from dialogs.clock import Clock
from dialogs.report import Period, ReportError, build, read_period
from dialogs.scheduling import local_today
from storage.database import Store
from storage.models import Marac, Role

KIND = "report"
READERS = frozenset({Role.COORDINATOR, Role.OPERATIONS_MANAGER})
NOT_ENTITLED = "Only the coordinator or the operations manager can export the MARAC's figures."


async def _report(request: Request) -> Activity:
    marac = await request.session.get_one(Marac, request.marac_id)
    now = request.clock.now()
    words = request.arguments.split()
    kind = words.pop() if words and words[-1].lower() in RENDER else None
    try:
        period = read_period(" ".join(words), local_today(marac, now))
    except ReportError as error:
        return text_reply(str(error))
    figures = await build(request.session, request.marac_id, period, now)
    if kind is None:
        return MessageFactory.attachment(CardFactory.adaptive_card(report_card(figures)))
    kind = kind.lower()
    content = RENDER[kind](figures)
    what = "SafeLives data return" if kind == "csv" else "steering group's report"
    return offer(file_name(figures, kind), f"The {what}, {period.label}", len(content),
                 {"kind": KIND, "first": period.first.isoformat(),
                  "last": period.last.isoformat(), "format": kind})


def is_report(context: Any) -> bool:
    return isinstance(context, dict) and context.get("kind") == KIND


async def accept(turn_context: TurnContext, response: FileConsentCardResponse, store: Store,
                 clock: Clock) -> None:
    """The file was accepted: check who they are again, count afresh and upload."""
    from bot.access import context_of

    asked: dict[str, Any] = response.context
    async with store.unit_of_work() as session:
        who = await context_of(session, turn_context.activity)
        if not READERS & who.actor.roles or who.marac_id is None or (
                response.upload_info is None):
            await turn_context.send_activity(text_reply(NOT_ENTITLED))
            return
        try:
            period = Period(date.fromisoformat(str(asked.get("first"))),
                            date.fromisoformat(str(asked.get("last"))))
            render = RENDER[str(asked.get("format"))]
        except (ValueError, KeyError):
            await turn_context.send_activity(text_reply(
                "The export's period was not readable; ask for the report again."))
            return
        figures = await build(session, who.marac_id, period, clock.now())
    await upload(turn_context, response, render(figures), f"**report {asked.get('format')}**")


REPORT_HANDLERS: dict[str, CommandHandler] = {"report": _report}
