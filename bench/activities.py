"""The activities Teams sends during a live meeting, as JSON: card presses (Action.Execute
invokes from the attendance card and the case card) and the chair's typed commands, each
from a seeded person, in the meeting's channel, with `serviceUrl` at the local connector."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from bench import clock as bench_clock
from bench.seeding import BOT_ID, BenchMeeting, Member

_ids = itertools.count(1)
DUE_ON = (bench_clock.DAY.date() + timedelta(days=28)).isoformat()


def _envelope(meeting: BenchMeeting, member: Member, service_url: str, thread: str
              ) -> dict[str, Any]:
    return {
        "id": f"bench-{next(_ids)}", "channelId": "msteams", "serviceUrl": service_url,
        "from": {"id": member.teams_id, "aadObjectId": member.aad_object_id,
                 "name": member.first_name},
        "recipient": {"id": BOT_ID, "name": "MARAC"},
        "conversation": {"id": f"{meeting.team};messageid={thread}",
                         "conversationType": "channel", "tenantId": meeting.tenant},
        "channelData": {"tenant": {"id": meeting.tenant}, "team": {"id": meeting.team},
                        "channel": {"id": meeting.team}},
    }


def press(meeting: BenchMeeting, member: Member, verb: str, data: dict[str, Any],
          service_url: str, card_id: str) -> dict[str, Any]:
    """A press of an Action.Execute button on the card Teams knows as `card_id`."""
    return {**_envelope(meeting, member, service_url, card_id), "type": "invoke",
            "name": "adaptiveCard/action", "replyToId": card_id,
            "value": {"action": {"type": "Action.Execute", "verb": verb, "data": data}}}


def command(meeting: BenchMeeting, member: Member, text: str, service_url: str
            ) -> dict[str, Any]:
    """A command typed in the channel, @mentioning the bot as Teams requires there."""
    mention = "<at>MARAC</at>"
    activity = {**_envelope(meeting, member, service_url, "1700000000000"), "type": "message",
                "text": f"{mention} {text}", "textFormat": "plain",
                "entities": [{"type": "mention", "text": mention,
                              "mentioned": {"id": BOT_ID, "name": "MARAC"}}]}
    return activity


def confirm_attendance(meeting: BenchMeeting, member: Member, service_url: str
                       ) -> dict[str, Any]:
    data = {"role": member.attends_as.value, "agency": member.agency or ""}
    return press(meeting, member, "attendance.confirm", data, service_url,
                 f"attendance-{meeting.index:04d}")


def add_action(meeting: BenchMeeting, member: Member, case: str, n: int, service_url: str,
               card_id: str | None = None) -> dict[str, Any]:
    data = {"case": case, "agency": member.agency or "Police", "owner": f"Owner {n}",
            "description": f"Safety visit number {n}", "for_whom": "victim",
            "risk": "Repeat incidents", "due_on": DUE_ON}
    return press(meeting, member, "case.action", data, service_url,
                 card_id or meeting.card_message_id)


def share_information(meeting: BenchMeeting, member: Member, case: str, n: int,
                      service_url: str) -> dict[str, Any]:
    data = {"case": case, "information": f"Research round {n}: two call-outs this year.",
            "not_involved": "false"}
    return press(meeting, member, "case.information", data, service_url,
                 meeting.card_message_id)


def live_press(meeting: BenchMeeting, step: int, service_url: str) -> dict[str, Any]:
    """The `step`th press of a busy meeting on its open (first) case: actions added, the
    attendance card, agency information, in turn."""
    planners, representatives = meeting.planners, meeting.representatives
    case = meeting.cases[0]
    kind = step % 4
    if kind == 1:
        return confirm_attendance(meeting, meeting.members[step % len(meeting.members)],
                                  service_url)
    if kind == 3:
        return share_information(meeting, representatives[step % len(representatives)],
                                 case, step, service_url)
    return add_action(meeting, planners[step % len(planners)], case, step, service_url)
