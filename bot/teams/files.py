"""Word documents handed over in personal chat (bot.features.documents): offered with Teams'
file consent card, and put at the upload URL Teams gives once the person accepts."""

from __future__ import annotations

import aiohttp
from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import Attachment
from botbuilder.schema.teams import FileConsentCardResponse, FileInfoCard

from bot.teams.messages import activity_of
from bot.turns.replies import text_reply

FILE_INFO = "application/vnd.microsoft.teams.card.file.info"


async def upload(turn_context: TurnContext, response: FileConsentCardResponse,
                 document: bytes, try_again: str) -> bool:
    """Put the file at Teams' upload URL and show its card; say so if Teams refuses."""
    target = response.upload_info
    async with aiohttp.ClientSession() as client, client.put(
            target.upload_url, data=document, headers={
                "Content-Length": str(len(document)),
                "Content-Range": f"bytes 0-{len(document) - 1}/{len(document)}"}) as put:
        if put.status >= 300:
            await turn_context.send_activity(activity_of(text_reply(
                f"Teams did not take the file ({put.status}); please try {try_again} again.")))
            return False
    card = FileInfoCard(unique_id=target.unique_id, file_type=target.file_type)
    await turn_context.send_activity(MessageFactory.attachment(Attachment(
        content_type=FILE_INFO, name=target.name, content_url=target.content_url,
        content=card.serialize())))
    return True
