"""`report [PERIOD] [csv|docx]`: the MARAC's figures for a period as a card with charts, in
personal chat (the coordinator and the operations manager); with csv or docx, the SafeLives
return or the steering group's report offered as a file through Teams' file consent card, as
the plan export is. `marac report` writes the same files from the console."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.features.documents import offer
from bot.features.report_export import RENDER, file_name
from bot.turns.arrival import Arrival
from bot.turns.registry import PERSONAL_ONLY, command
from bot.turns.replies import Message, card_reply
from bot.turns.request import Request
from cards.report import report_card
from dialogs.clock import Clock
from dialogs.report import Period, ReportError, build, read_period
from dialogs.scheduling import local_today
from storage.database import Store
from storage.models import Marac, Role

KIND = "report"
READERS = frozenset({Role.COORDINATOR, Role.OPERATIONS_MANAGER})
NOT_ENTITLED = "Only the coordinator or the operations manager can export the MARAC's figures."


@command("report", "The MARAC's figures for a period (last quarter unless named), with "
         "charts; csv or docx: the SafeLives return or the steering group's report.",
         "report [PERIOD] [csv/docx]", roles=READERS, places=PERSONAL_ONLY, menu=False)
async def _report(request: Request) -> Message:
    marac = await request.session.get_one(Marac, request.marac_id)
    now = request.clock.now()
    words = request.arguments.split()
    kind = words.pop().lower() if words and words[-1].lower() in RENDER else None
    period = read_period(" ".join(words), local_today(marac, now))
    figures = await build(request.session, request.marac_id, period, now)
    if kind is None:
        return card_reply(report_card(figures), "MARAC report")
    content = RENDER[kind](figures)
    what = "SafeLives data return" if kind == "csv" else "steering group's report"
    return offer(file_name(figures, kind), f"The {what}, {period.label}", len(content),
                 {"kind": KIND, "first": period.first.isoformat(),
                  "last": period.last.isoformat(), "format": kind})


def is_report(choices: Any) -> bool:
    return isinstance(choices, dict) and choices.get("kind") == KIND


async def accepted(store: Store, arrival: Arrival, choices: Any, can_upload: bool,
                   clock: Clock) -> tuple[bytes, str]:
    """The file was accepted: check who they are again, count afresh; the document and the
    command to run again should Teams not take it. A ReportError says why not."""
    from bot.turns.access import context_of

    async with store.unit_of_work() as session:
        who = await context_of(session, arrival)
        if not READERS & who.actor.roles or who.marac_id is None or not can_upload:
            raise ReportError(NOT_ENTITLED)
        try:
            period = Period(date.fromisoformat(str(choices.get("first"))),
                            date.fromisoformat(str(choices.get("last"))))
            render = RENDER[str(choices.get("format"))]
        except (ValueError, KeyError, AttributeError) as error:
            raise ReportError("The export's period was not readable; ask for the report "
                              "again.") from error
        figures = await build(session, who.marac_id, period, clock.now())
    return render(figures), f"**report {choices.get('format')}**"
