"""Teams' own meeting events, as the handler hands them over: the call ending with the MARAC
meeting still open reminds the chair privately (once, through the outbox); someone joining
the call shows on the attendance card as joined, not yet confirmed."""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema.teams import MeetingParticipantsEventDetails
from msrest.exceptions import DeserializationError

from bot.proactive import outbox
from bot.teams.conversation import meeting_place, tenant_of
from bot.teams.messages import activity_of
from bot.turns.replies import card_reply, text_reply
from bot.views.meeting import attendance_view
from dialogs.clock import Clock
from dialogs.meeting_events import record_joined, remind_unended
from storage.database import Store
from storage.models import Marac

log = logging.getLogger(__name__)

NOT_ENDED = ("The Teams meeting has ended, but the MARAC meeting in its chat is still open: "
             "type **end** there to close it and post its summary, so the plans go out.")


async def call_ended(turn_context: TurnContext, store: Store, clock: Clock) -> None:
    now = clock.now()
    async with store.unit_of_work() as session:
        reminder = await remind_unended(session, meeting_place(turn_context.activity), now)
        if reminder is None:
            return
        _, chairs = reminder
        note = text_reply(NOT_ENDED, "MARAC meeting still open")
        for person_id in chairs:
            outbox.enqueue(session, note, "meeting not ended", now, person_id=person_id)


async def participants_joined(turn_context: TurnContext, value: Any, store: Store,
                              clock: Clock) -> None:
    """`value` as botbuilder hands it over: the event's JSON, not yet read."""
    activity = turn_context.activity
    joined = _joined(value)
    if not joined:
        return
    async with store.unit_of_work() as session:
        meeting = await record_joined(session, meeting_place(activity), tenant_of(activity) or "",
                                      joined, clock.now())
        if meeting is None or not meeting.attendance_message_id:
            return
        marac = await session.get_one(Marac, meeting.marac_id)
        card = activity_of(card_reply(await attendance_view(session, marac, meeting),
                                      "Attendance"), meeting.attendance_message_id)
    try:
        await turn_context.update_activity(card)
    except Exception as error:  # the arrival is stored: the card shows it when next drawn
        log.warning("could not update the attendance card: %s", error)


def _joined(value: Any) -> list[str]:
    """The Azure AD object ids of those who joined; none if Teams sent something else."""
    try:
        details = (value if isinstance(value, MeetingParticipantsEventDetails)
                   else MeetingParticipantsEventDetails.deserialize(value))
    except (DeserializationError, TypeError, AttributeError):
        log.info("a participant-join event that could not be read was ignored")
        return []
    # botbuilder 4.17 reads the event's "members" into an attribute named `conversations`.
    return [m.user.aad_object_id for m in details.conversations or []
            if m.user is not None and m.user.aad_object_id]
