"""In-meeting notifications: a slot warning sent to a Teams meeting's chat also pops up over
the meeting itself (Teams' `alertInMeeting` notification). Teams shows a page in that bubble;
the bot serves it, carrying only what the warning says (a case number and the time left), and
only a text the bot signed: any other text given to the page is not shown."""

from __future__ import annotations

import html
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from aiohttp import web
from botbuilder.core.teams import teams_notify_user

from bot.teams.messages import activity_of
from bot.turns.replies import Message
from storage.crypto import keyring

PAGE_PATH = "/meeting-notice"
PURPOSE = "meeting notice"
NOT_ISSUED = "This notice was not issued by the MARAC bot."
MAX_TEXT = 200
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MARAC</title>
<style>body{{font-family:"Segoe UI",sans-serif;margin:1.5em;font-size:1.2em}}</style>
</head><body><p>{text}</p></body></html>
"""

# Teams frames the page; nothing else may, and it loads nothing.
PAGE_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors "
               "https://teams.microsoft.com https://*.teams.microsoft.com https://*.skype.com")


@dataclass(frozen=True)
class MeetingNotice:
    """Where the bubble's page lives: the bot's public https address and its app id."""

    app_id: str
    public_url: str

    def page_url(self, text: str) -> str:
        """The bubble's page, signed so that it shows only what the bot issued."""
        signature = keyring().signature(PURPOSE, text)
        return (f"{self.public_url.rstrip('/')}{PAGE_PATH}?"
                f"{urlencode({'text': text, 'sig': signature})}")

    def bubble_url(self, text: str) -> str:
        query = urlencode({"url": self.page_url(text), "height": 180, "width": 420,
                           "title": "MARAC", "completionBotId": self.app_id})
        return f"https://teams.microsoft.com/l/bubble/{self.app_id}?{query}"

    def alert(self, message: Message, text: str) -> Message:
        activity = activity_of(message)
        teams_notify_user(activity, alert_in_meeting=True,
                          external_resource_url=self.bubble_url(text))
        return replace(message, channel_data=activity.channel_data.serialize())


async def notice_page(request: web.Request) -> web.Response:
    text = request.query.get("text", "")
    if len(text) > MAX_TEXT or not keyring().signed(PURPOSE, text, request.query.get("sig", "")):
        return web.Response(text=PAGE.format(text=NOT_ISSUED), content_type="text/html",
                            status=404, headers={"Content-Security-Policy": PAGE_POLICY})
    return web.Response(text=PAGE.format(text=html.escape(text)), content_type="text/html",
                        headers={"Content-Security-Policy": PAGE_POLICY})
