"""`report [PERIOD]`: the MARAC's figures for a period as a card with charts, in personal chat
(the coordinator and the operations manager). The files come from `marac report`."""

from __future__ import annotations

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity

from bot.replies import text_reply
from bot.request import CommandHandler, Request
from cards.report import report_card
from dialogs.report import ReportError, build, read_period
from dialogs.scheduling import local_today
from storage.models import Marac


async def _report(request: Request) -> Activity:
    marac = await request.session.get_one(Marac, request.marac_id)
    now = request.clock.now()
    try:
        period = read_period(request.arguments, local_today(marac, now))
    except ReportError as error:
        return text_reply(str(error))
    figures = await build(request.session, request.marac_id, period, now)
    return MessageFactory.attachment(CardFactory.adaptive_card(report_card(figures)))


REPORT_HANDLERS: dict[str, CommandHandler] = {"report": _report}
