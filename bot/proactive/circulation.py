"""Case lists and reminders into the outbox, as cards for each recipient."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.proactive import outbox
from bot.proactive.plan_delivery import queue_after_meeting
from bot.proactive.weekly_triage import queue_weekly_triage
from bot.teams.meeting_notice import MeetingNotice
from bot.teams.meeting_notification import spec as notification_spec
from bot.turns.replies import card_reply, text_reply
from bot.views.meeting import case_card_view
from cards.circulation import case_list_card, reminder_card
from dialogs.circulation import (
    CaseList,
    circulate,
    claim_due_case_lists,
    claim_due_reminders,
)
from dialogs.meeting_events import chairs_in_teams
from dialogs.meeting_record import SlotWarning, claim_slot_warnings
from dialogs.retention import purge_when_due
from storage.models import Case, Conversation, ConversationKind, Marac, Meeting


async def queue_due(session: AsyncSession, now: datetime,
                    notice: MeetingNotice | None = None) -> None:
    """Everything the timer queues, in one unit of work (the timer itself runs these parts
    in their own units of work, the time-critical slot warnings first)."""
    await queue_slot_warnings(session, now, notice)
    await queue_scheduled(session, now)
    await purge_when_due(session, now)


# What a running meeting needs within seconds: delivered before anything else is looked at.
SLOT_PURPOSES = ("slot warning", "case card")


async def queue_slot_warnings(session: AsyncSession, now: datetime,
                              notice: MeetingNotice | None = None) -> None:
    for warning in await claim_slot_warnings(session, now):
        await queue_slot_warning(session, warning, now, notice)


async def queue_scheduled(session: AsyncSession, now: datetime) -> None:
    """Case lists, reminders and what follows a meeting, as they fall due."""
    for case_list in await claim_due_case_lists(session, now):
        queue_case_list(session, case_list, now)
    for reminder in await claim_due_reminders(session, now):
        card = card_reply(reminder_card(reminder), f"Information due: {reminder.agency}")
        for person_id in reminder.recipients:
            outbox.enqueue(session, card, "information reminder", now, person_id=person_id)
    await queue_after_meeting(session, now)  # plans, the 48-hour clock, action reminders
    await queue_weekly_triage(session, now)


async def queue_slot_warning(session: AsyncSession, warning: SlotWarning, now: datetime,
                             notice: MeetingNotice | None = None) -> None:
    meeting, case = warning.meeting, warning.case
    if meeting.conversation_id is None:
        return
    if warning.over:
        text = f"{case.number}: the slot is over. The chair can **extend**, **defer** or **next**."
    else:
        seconds = max(1, warning.remaining)
        left = (f"{seconds} second{'s' * (seconds != 1)}" if seconds < 120
                else f"{round(seconds / 60)} minutes")
        text = f"{case.number}: {left} of the slot remain."
    activity = text_reply(text, f"Slot: {case.number}")
    if notice is not None and await _is_meeting_chat(session, meeting.conversation_id):
        activity = notice.alert(activity, text.replace("**", ""))
    outbox.enqueue(session, activity, "slot warning", now,
                   conversation_id=meeting.conversation_id)
    chairs = await chairs_in_teams(session, meeting)
    if notice is not None and meeting.teams_meeting_id and chairs:
        outbox.enqueue_render(session, notification_spec(
            notice, meeting.teams_meeting_id, chairs, text.replace("**", "")),
            "slot notification", now, conversation_id=meeting.conversation_id)
    if case.card_message_id:
        outbox.enqueue_render(session, {RENDER: "case card", "case_id": case.id}, "case card",
                              now, conversation_id=meeting.conversation_id,
                              replaces_activity_id=case.card_message_id)


async def _is_meeting_chat(session: AsyncSession, conversation_id: str) -> bool:
    kind = await session.scalar(select(Conversation.kind).where(
        Conversation.conversation_id == conversation_id))
    return kind == ConversationKind.MEETING


RENDER = "render"


async def render_now(session: AsyncSession, payload: dict[str, Any], now: datetime
                     ) -> dict[str, Any]:
    """The activity to send for an outbox message: as queued, or a card drawn now."""
    if payload.get(RENDER) != "case card":
        return payload
    case = await session.get_one(Case, payload["case_id"])
    meeting = await session.get_one(Meeting, case.meeting_id)
    marac = await session.get_one(Marac, meeting.marac_id)
    card = card_reply(await case_card_view(session, marac, meeting, case, now),
                      f"Case {case.number}")
    return card.serialize()


def queue_case_list(session: AsyncSession, case_list: CaseList, now: datetime) -> None:
    card = card_reply(case_list_card(case_list), f"Case list: {case_list.marac.name}")
    for person_id in case_list.recipients:
        outbox.enqueue(session, card, "case list", now, person_id=person_id)


async def publish_case_list(session: AsyncSession, marac_id: int, now: datetime
                            ) -> CaseList | None:
    """`publish agenda`: the next meeting's case list, now, whatever the timer says."""
    meeting = await session.scalar(
        select(Meeting).where(Meeting.marac_id == marac_id, Meeting.starts_at > now)
        .order_by(Meeting.starts_at).limit(1))
    if meeting is None:
        return None
    case_list = await circulate(session, await session.get_one(Marac, marac_id), meeting, now)
    queue_case_list(session, case_list, now)
    return case_list
