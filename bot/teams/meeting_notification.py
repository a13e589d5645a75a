"""Teams' targeted in-meeting notification: a slot warning shown over the meeting to the chair
and the stand-in only (POST v1/meetings/{id}/notification), beside the chat message the room
sees. Queued in the outbox as a spec, sent by the timer through botbuilder's TeamsInfo."""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema.teams import MeetingNotificationBase

from bot.ops.teams_package import MEETING_PERMISSIONS
from bot.teams.meeting_notice import MeetingNotice

KIND = "meeting notification"
# The resource-specific consent Teams checks before it takes the notification.
PERMISSIONS = MEETING_PERMISSIONS["send_meeting_notification"]


class TargetedMeetingNotification(MeetingNotificationBase):
    """botbuilder 4.17 has only the notification's base (its type); the value is added here
    so that botbuilder's own serializer and client send it."""

    _attribute_map = {"type": {"key": "type", "type": "str"},
                      "value": {"key": "value", "type": "object"}}

    def __init__(self, *, value: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(type="targetedMeetingNotification", **kwargs)
        self.value = value


def spec(notice: MeetingNotice, teams_meeting_id: str, recipients: list[str], text: str
         ) -> dict[str, Any]:
    """What the outbox keeps for one notification (from bot.proactive.circulation's RENDER key)."""
    return {"render": KIND, "meeting": teams_meeting_id, "recipients": recipients,
            "url": notice.page_url(text)}


def is_notification(payload: dict[str, Any]) -> bool:
    return payload.get("render") == KIND


async def send_notification(context: TurnContext, payload: dict[str, Any]) -> None:
    notification = TargetedMeetingNotification(value={
        "recipients": payload["recipients"],
        "surfaces": [{"surface": "meetingStage", "contentType": "task", "content": {
            "value": {"height": 180, "width": 420, "title": "MARAC", "url": payload["url"]}}}],
    })
    await TeamsInfo.send_meeting_notification(context, notification, payload["meeting"])
