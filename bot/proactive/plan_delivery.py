"""After the meeting, from the timer: closed cases' plans into the outbox as 1:1 cards (and
emails into the mail outbox), the 48-hour clock's alerts, failed deliveries reported to the
coordinators, the action owners' reminders and overdue actions' escalations. Every message
goes to a Person through the outbox, in the same transaction as the record that caused it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.proactive import outbox
from bot.turns.replies import Message, card_reply, text_reply
from cards.plan import (
    action_card,
    alert_notice,
    disseminated_card,
    failure_notice,
    overdue_notice,
    reminder_notice,
    withheld_notice,
)
from dialogs.acknowledgement import claim_reminders, owned
from dialogs.dissemination import (
    Alert,
    Queued,
    claim_alerts,
    claim_closed_cases,
    claim_failures,
    start_clocks,
)
from dialogs.hub import chase_text, claim_chases
from dialogs.overdue import claim_escalations
from storage.models import DeliveryKind, OutboxMessage


def send_to(session: AsyncSession, message: Message, purpose: str, now: datetime,
            person_id: int) -> OutboxMessage:
    """bot.proactive.outbox.enqueue for one person, handing back the row so a delivery can
    point to it."""
    return outbox.enqueue(session, message, purpose, now, person_id=person_id)


async def queue_after_meeting(session: AsyncSession, now: datetime) -> None:
    for queued in await claim_closed_cases(session, now):
        await queue_plan(session, queued, now)
    await start_clocks(session)
    grouped: dict[tuple[int, bool], list[Alert]] = {}
    for alert in await claim_alerts(session, now):  # one message per MARAC and kind
        grouped.setdefault((alert.marac.id, alert.to_manager), []).append(alert)
    for (_, to_manager), alerts in grouped.items():
        note = text_reply(alert_notice([a.state for a in alerts], to_manager, now),
                          "Plans not yet delivered: " + ", ".join(a.state.number for a in alerts))
        purpose = "dissemination 48h" if to_manager else "dissemination 36h"
        for person_id in alerts[0].recipients:
            send_to(session, note, purpose, now, person_id)
    for failure in await claim_failures(session):
        note = text_reply(failure_notice(failure.number, failure.agency, failure.reason),
                          f"Plan not delivered: {failure.number}")
        for person_id in failure.coordinators:
            send_to(session, note, "dissemination failed", now, person_id)
    for reminder in await claim_reminders(session, now):
        note = text_reply(reminder_notice(reminder.action, reminder.due),
                          f"Action {'due' if reminder.due else 'to acknowledge'}: "
                          f"{reminder.action.case_number}")
        for person_id in reminder.recipients:
            send_to(session, note, "action due" if reminder.due else "action acknowledge",
                    now, person_id)
    for chase in await claim_chases(session, now):
        note = text_reply(chase_text(chase), f"HUB chase: {chase.case_number}")
        for person_id in chase.recipients:
            send_to(session, note, "hub chase", now, person_id)
    for escalation in await claim_escalations(session, now):
        note = text_reply(overdue_notice(escalation.action, escalation.working_days,
                                         escalation.to_manager),
                          f"Action overdue: {escalation.action.case_number}")
        purpose = "action overdue 5d" if escalation.to_manager else "action overdue 2d"
        for person_id in escalation.recipients:
            send_to(session, note, purpose, now, person_id)


async def queue_plan(session: AsyncSession, queued: Queued, now: datetime) -> None:
    zone = queued.marac.timezone
    number = queued.case.number
    # The summary is also what the 413 short form says to do (bot.proactive.outbox.short_form).
    card = card_reply(disseminated_card(queued.plan, zone),
                      f"Plan {number}: type **plan {number}** to see it; the Word document "
                      "holds it whole.")
    carriers = []
    for delivery in queued.deliveries:
        if delivery.kind is DeliveryKind.TEAMS and delivery.person_id is not None:
            carriers.append((delivery, send_to(session, card, "plan", now,
                                               delivery.person_id)))
    for action in queued.actions:
        shown = card_reply(action_card(await owned(session, action.follow_up.id)),
                           f"Action: {queued.case.number}")
        for person_id in action.recipients:
            send_to(session, shown, "action", now, person_id)
    await session.flush()
    for delivery, message in carriers:
        delivery.outbox_id = message.id
    unsent = [(r.agency, r.withheld or "no representative or secure mailbox on record")
              for r in queued.recipients if r.withheld or not r.reachable]
    if unsent or queued.unsent_actions:
        note = text_reply(withheld_notice(queued.case.number, unsent, queued.unsent_actions),
                          f"Plan withheld: {queued.case.number}")
        for person_id in queued.coordinators:
            send_to(session, note, "dissemination withheld", now, person_id)
