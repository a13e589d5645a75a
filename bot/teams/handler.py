"""The Teams activity handler: installation, removal and typed commands."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.core.teams.teams_activity_extensions import teams_get_meeting_info
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    DeliveryModes,
    InputHints,
    ResourceResponse,
)
from msrest.exceptions import DeserializationError
from sqlalchemy import select

from bot.features.meeting import start_posts
from bot.features.police_feed import FILE_DOWNLOAD_INFO, handle_feed_file
from bot.teams import file_consent, meeting_events
from bot.teams.conversation import arrival_of, seen
from bot.teams.messages import activity_of
from bot.teams.roster import learn_roster
from bot.turns.access import Context, context_of
from bot.turns.arrival import Arrival
from bot.turns.pipeline import handle_message, handle_press, is_command
from bot.turns.posts import Post
from bot.turns.press import Invoke, message_answer, read_invoke
from bot.turns.registry import Place
from bot.turns.replies import Message, card_reply, text_reply
from cards import notice
from cards.notice import SOMETHING_WENT_WRONG
from cards.welcome import welcome_card
from dialogs.clock import Clock
from dialogs.installation import record_installation, record_removal
from dialogs.meeting import MeetingError
from dialogs.meeting_events import note_teams_meeting
from dialogs.safe_text import safe_text, safe_value
from storage.database import Store
from storage.models import Marac

log = logging.getLogger(__name__)


class MaracBot(TeamsActivityHandler):
    def __init__(self, store: Store, clock: Clock,
                 allowed_tenants: frozenset[str] = frozenset(), development: bool = False
                 ) -> None:
        self.store = store
        self.development = development  # anonymous, as the Playground runs it
        self.clock = clock
        self.allowed_tenants = allowed_tenants
        self.development = development  # no app id: the police feed may come from loopback

    async def on_turn(self, turn_context: TurnContext) -> None:
        """Only the tenants of the MARACs served (and any the configuration adds) reach the
        bot; anyone else is told so, and nothing of theirs is stored.

        A typed command or a card press checks the tenant in the one unit of work it opens
        anyway (bot.turns.access.context_of, rolled back on refusal); anything else is
        checked here first.

        Who sent it from where, and the card press an invoke carries, are read once, here,
        for the whole turn."""
        activity = turn_context.activity
        arrival, invoke = turn_context.turn_state[_ARRIVAL], turn_context.turn_state[_INVOKE] = (
            arrive(activity))
        tenant = arrival.tenant_id
        if (tenant in self.allowed_tenants or _checks_tenant_itself(activity, arrival, invoke)
                or await self._serves(tenant)):
            await super().on_turn(turn_context)
            return
        log.info("refused an activity from tenant %s", tenant)
        if activity.type == "message":
            await turn_context.send_activity(activity_of(text_reply(notice.not_this_tenant())))
        elif activity.type == "invoke":
            _answer_invoke(turn_context, InvokeResponse(
                status=200, body=message_answer(notice.not_this_tenant())))

    async def _serves(self, tenant: str | None) -> bool:
        if not tenant:
            return False
        async with self.store.unit_of_work() as session:
            return await session.scalar(
                select(Marac.id).where(Marac.tenant_id == tenant).limit(1)) is not None

    def plain_turn(self, activity: Activity) -> tuple[Arrival, Invoke | None] | None:
        """Who sent the activity and the press it carries, when it is a typed command or a
        known card press (bot.teams.plain_turns serves those, checking the tenant in their
        own unit of work); None for anything else."""
        arrival, invoke = arrive(activity)
        if not _checks_tenant_itself(activity, arrival, invoke):
            return None
        return arrival, invoke

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await self.answer_message(_arrival(turn_context), turn_context.activity,
                                  TurnReplies(turn_context))

    async def answer_message(self, arrival: Arrival, activity: Activity, replies: Replies
                             ) -> None:
        files = _files(activity)
        if files:
            posts = [Post(await handle_feed_file(arrival, files[0].name, files[0].content,
                                                 self.store, self.clock, self.development))]
        else:
            posts = await handle_message(arrival, self.store, self.clock, self.allowed_tenants)
        for post in posts:
            await self._post(replies, post)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        """The answer is left where botbuilder's adapter looks for it, rather than handed to
        botbuilder's ActivityHandler, which would send it through TurnContext.send_activity
        and so deep-copy the whole card it carries."""
        response = await self._invoke(turn_context)
        if response is not None and _INVOKE_RESPONSE_KEY not in turn_context.turn_state:
            _answer_invoke(turn_context, response)
        return response

    async def _invoke(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity
        if activity.name == FILE_CONSENT and not _file_consent(activity.value):
            return _bad_request("Not a file consent answer.")
        if activity.name in OTHER_INVOKES:
            try:
                return await super().on_invoke_activity(turn_context)
            except DeserializationError:
                return _bad_request("The invoke's value is not what its name says.")
        if activity.name != "adaptiveCard/action":
            return _bad_request("The bot answers no invoke of that name.")
        invoke = turn_context.turn_state.get(_INVOKE)
        if invoke is None:
            return _bad_request("Not an Action.Execute.")
        body = await self.answer_press(_arrival(turn_context), invoke, TurnReplies(turn_context))
        return InvokeResponse(status=200, body=body)

    async def answer_press(self, arrival: Arrival, invoke: Invoke, replies: Replies
                           ) -> dict[str, Any]:
        try:
            return await self._card_action(arrival, invoke, replies)
        except Exception:
            log.exception("card action %s failed", invoke.verb)
            return message_answer(SOMETHING_WENT_WRONG)

    async def _card_action(self, arrival: Arrival, invoke: Invoke, replies: Replies
                           ) -> dict[str, Any]:
        answer, updates, posts = await handle_press(
            arrival, invoke, self.store, self.clock, self.allowed_tenants)
        for post in posts:
            await replies.send(post)
        for message_id, card in updates:
            try:
                await replies.update(message_id, card)
            except Exception as error:  # the presser has their answer; others see it next time
                log.warning("could not update shared card %s: %s", message_id, error)
        return answer

    async def on_teams_meeting_start_event(self, meeting: Any, turn_context: TurnContext
                                           ) -> None:
        """The Teams meeting has begun: open the MARAC meeting in its chat, if it is one's."""
        arrival = _arrival(turn_context)
        async with self.store.unit_of_work() as session:
            marac_id = (await context_of(session, arrival)).marac_id
            if marac_id is None:
                return
            try:
                posts = await start_posts(session, marac_id, arrival.place, None,
                                          self.clock.now())
            except MeetingError as error:
                log.info("meeting start event not acted on: %s", error)
                return
            await note_teams_meeting(session, arrival.place,
                                     teams_get_meeting_info(turn_context.activity).id)
        for post in posts:
            await self._post(TurnReplies(turn_context), post)

    async def on_teams_meeting_end_event(self, meeting: Any, turn_context: TurnContext
                                         ) -> None:
        await meeting_events.call_ended(turn_context, self.store, self.clock)

    async def on_teams_meeting_participants_join_event(
            self, meeting: Any, turn_context: TurnContext) -> None:
        await meeting_events.participants_joined(turn_context, meeting, self.store, self.clock)

    async def _post(self, replies: Replies, post: Post) -> None:
        sent = await replies.send(post.message)
        if post.record is not None and sent:
            async with self.store.one_statement() as connection:
                await post.record(connection, sent)

    async def on_teams_file_consent_accept(self, turn_context: TurnContext,
                                           file_consent_card_response: Any) -> None:
        await file_consent.accept(turn_context, file_consent_card_response, self.store,
                                  self.clock)

    async def on_teams_file_consent_decline(self, turn_context: TurnContext,
                                            file_consent_card_response: Any) -> None:
        await file_consent.decline(turn_context)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._installed(turn_context)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        async with self.store.unit_of_work() as session:
            await record_removal(session, turn_context.activity.conversation.id,
                                 self.clock.now())

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        if any(m.id == turn_context.activity.recipient.id for m in members_added):
            await self._installed(turn_context)
        elif await self._is_marac_team(turn_context):
            await learn_roster(turn_context, self.store)

    async def _is_marac_team(self, turn_context: TurnContext) -> bool:
        async with self.store.unit_of_work() as session:
            context = await context_of(session, _arrival(turn_context))
        return context.place is not Place.PERSONAL and context.marac_id is not None

    async def on_teams_members_added(
        self, teams_members_added: list[ChannelAccount], team_info: object,
        turn_context: TurnContext,
    ) -> None:
        await self.on_members_added_activity(teams_members_added, turn_context)

    async def _installed(self, turn_context: TurnContext) -> None:
        """Welcome a conversation the bot may keep; anywhere else say so and keep nothing."""
        activity = turn_context.activity
        async with self.store.unit_of_work() as session:
            context = await context_of(session, _arrival(turn_context))
            if not _may_keep(context):
                installation = None
            else:
                installation = await record_installation(session, seen(activity),
                                                         self.clock.now())
                marac_name = await session.scalar(
                    select(Marac.name).where(Marac.id == context.marac_id))
        if installation is None:
            # Teams announces an install twice (installationUpdate and conversationUpdate);
            # with nothing stored to tell them apart, only the first kind is answered.
            if activity.type == ActivityTypes.installation_update:
                await turn_context.send_activity(activity_of(text_reply(
                    notice.not_known_to_a_marac() if context.place is Place.PERSONAL
                    else notice.not_registered_here())))
            return
        if installation.should_welcome:
            log.info("installed in %s", activity.conversation.id)
            await turn_context.send_activity(activity_of(card_reply(welcome_card(marac_name),
                                                                   "MARAC bot: welcome")))
        if context.place is not Place.PERSONAL:
            await learn_roster(turn_context, self.store)


FILE_CONSENT = "fileConsent/invoke"
# The invokes botbuilder's handler answers for this bot: the file consent card, Teams' check.
OTHER_INVOKES = frozenset({FILE_CONSENT, "healthCheck"})


def _bad_request(message: str) -> InvokeResponse:
    return InvokeResponse(status=400, body={
        "statusCode": 400, "type": "application/vnd.microsoft.error",
        "value": {"code": "BadRequest", "message": message}})


def _file_consent(value: Any) -> bool:
    """The shape of Teams' answer to a file consent card."""
    return (isinstance(value, dict) and value.get("action") in ("accept", "decline")
            and isinstance(value.get("context", {}), dict)
            and isinstance(value.get("uploadInfo", {}), dict))


# Where botbuilder's adapter picks up the answer to an invoke (the same key in TurnContext,
# BotAdapter and CloudAdapterBase).
_INVOKE_RESPONSE_KEY = TurnContext._INVOKE_RESPONSE_KEY  # noqa: SLF001
_INVOKE = "marac.invoke"  # the card press the turn carries (bot.turns.press.Invoke)
_ARRIVAL = "marac.arrival"  # who sent the turn and from where (bot.turns.arrival.Arrival)


def _arrival(turn_context: TurnContext) -> Arrival:
    arrival: Arrival = turn_context.turn_state[_ARRIVAL]
    return arrival


def _answer_invoke(turn_context: TurnContext, response: InvokeResponse) -> None:
    """Answer an invoke as botbuilder's adapter does when the answer is sent through it, less
    TurnContext.send_activities' deep copy of the activity (and of the card in its body)."""
    turn_context.turn_state[_INVOKE_RESPONSE_KEY] = Activity(
        type=ActivityTypes.invoke_response, value=response)


async def _send(turn_context: TurnContext, message: Message) -> ResourceResponse | None:
    """TurnContext.send_activity, less its deep copy of the activity (and of the card it
    carries): the activities posted here are built for this one send, so they are addressed
    in place. Where botbuilder would do more than send (replies buffered for expectReplies,
    or send handlers registered on the turn), its own path is taken."""
    activity = activity_of(message)
    if (turn_context.activity.delivery_mode == DeliveryModes.expect_replies
            or turn_context._on_send_activities):  # noqa: SLF001
        return await turn_context.send_activity(activity)
    TurnContext.apply_conversation_reference(
        activity, TurnContext.get_conversation_reference(turn_context.activity))
    activity.type = activity.type or ActivityTypes.message
    activity.input_hint = activity.input_hint or InputHints.accepting_input
    activity.id = None
    responses = await turn_context.adapter.send_activities(turn_context, [activity])
    if activity.type != ActivityTypes.trace:
        turn_context.responded = True
    return responses[0] if responses else None


def _files(activity: Activity) -> list[Any]:
    return [a for a in activity.attachments or [] if a.content_type == FILE_DOWNLOAD_INFO]


def arrive(activity: Activity) -> tuple[Arrival, Invoke | None]:
    """Who sent the activity from where, and the card press an invoke carries, read once for
    the whole turn (its text and card inputs made safe first, in place)."""
    activity.text = safe_text(activity.text) if activity.text else activity.text
    activity.value = safe_value(activity.value)  # card inputs
    invoke = (read_invoke(activity.name, activity.value)
              if activity.type == ActivityTypes.invoke else None)
    return arrival_of(activity), invoke


def _checks_tenant_itself(activity: Activity, arrival: Arrival, invoke: Invoke | None) -> bool:
    """Typed commands and known card presses: their unit of work checks the tenant."""
    if activity.type == ActivityTypes.message:
        return not _files(activity) and is_command(arrival)
    return invoke is not None and invoke.button is not None


class Replies(Protocol):
    """Replies and card updates in the conversation a turn came from."""

    async def send(self, message: Message) -> str | None:
        """Post a message; the id Teams gave it."""

    async def update(self, message_id: str, message: Message) -> None:
        """Replace a message posted earlier."""


class TurnReplies:
    """Through botbuilder's turn context (the adapter's turns)."""

    def __init__(self, turn_context: TurnContext) -> None:
        self._turn_context = turn_context

    async def send(self, message: Message) -> str | None:
        sent = await _send(self._turn_context, message)
        return sent.id if sent is not None and sent.id else None

    async def update(self, message_id: str, message: Message) -> None:
        await self._turn_context.update_activity(activity_of(message, message_id))


def _may_keep(context: Context) -> bool:
    """A MARAC's conversation, or the personal chat of someone a MARAC knows."""
    if context.place is Place.PERSONAL:
        return context.actor.is_known
    return context.marac_id is not None
