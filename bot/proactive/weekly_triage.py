"""The weekly triage queue to the triage members, and the coordinator's flag on a referral
that can no longer be heard within the target, into the outbox (dialogs.weekly_triage)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.proactive import outbox
from bot.turns.replies import card_reply, text_reply
from bot.views.referrals import triage_view
from dialogs.weekly_triage import TargetFlag, claim_target_flags, claim_triage_queues


async def queue_weekly_triage(session: AsyncSession, now: datetime) -> None:
    for queue in await claim_triage_queues(session, now):
        card = await triage_view(session, queue.marac.id, "This week's triage queue.")
        for person_id in queue.recipients:
            outbox.enqueue(session, card_reply(card, f"Triage queue: {queue.marac.name}"),
                           "triage queue", now, person_id=person_id)
    for flag in await claim_target_flags(session, now):
        message = text_reply(flag_text(flag), f"Target missed: {flag.reference}")
        for person_id in flag.recipients:
            outbox.enqueue(session, message, "triage target", now, person_id=person_id)


def flag_text(flag: TargetFlag) -> str:
    days = flag.marac.target_working_days
    received = f"received {flag.received_on:%d %B}"
    if flag.case_number is not None:
        return (f"{flag.case_number} (referral {flag.reference}, {flag.first_name}, {received}) "
                f"was deferred past {flag.target_day:%A %d %B}: it can no longer be heard "
                f"within {days} working days of receipt.")
    return (f"Referral {flag.reference} ({flag.first_name}, {received}) is still waiting in "
            f"triage and can no longer be heard within {days} working days of receipt "
            f"(by {flag.target_day:%A %d %B}).")
