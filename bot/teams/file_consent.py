"""Teams' file consent card answered: a declined file is left unsaved; an accepted one is
rendered again from the store (bot.features.plan_export, bot.features.subject_access,
bot.features.report, bot.features.transfers) and put at the upload URL Teams gives."""

from __future__ import annotations

from botbuilder.core import TurnContext
from botbuilder.schema.teams import FileConsentCardResponse

from bot.features import plan_export, report, subject_access, transfers
from bot.teams.conversation import arrival_of
from bot.teams.files import upload
from bot.teams.messages import activity_of
from bot.turns.replies import text_reply
from dialogs.clock import Clock
from dialogs.refusal import Refusal
from storage.database import Store


async def accept(turn_context: TurnContext, response: FileConsentCardResponse, store: Store,
                 clock: Clock) -> None:
    choices = response.context
    arrival, can_upload = arrival_of(turn_context.activity), response.upload_info is not None
    try:
        feature = (report if report.is_report(choices)
                   else subject_access if subject_access.is_subject_access(choices)
                   else transfers if transfers.is_transfer(choices)
                   else plan_export)
        document, try_again = await feature.accepted(store, arrival, choices, can_upload,
                                                     clock)
    except Refusal as refused:
        await turn_context.send_activity(activity_of(text_reply(str(refused))))
        return
    await upload(turn_context, response, document, try_again)


async def decline(turn_context: TurnContext) -> None:
    await turn_context.send_activity(activity_of(text_reply(
        "The file was not saved to your files.")))
