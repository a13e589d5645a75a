"""Driving the one pipeline (bot.turns.pipeline) from a Bot Framework activity, as Teams
sends it, for store tests: a typed message, or a card's button pressed."""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity

from bot.teams.conversation import arrival_of
from bot.turns.pipeline import handle_message as handle_arrival
from bot.turns.pipeline import handle_press
from bot.turns.posts import Post
from bot.turns.press import InvokeAnswer, read_invoke
from bot.turns.replies import Message
from dialogs.clock import Clock
from storage.database import Store


async def handle_message(activity: Activity, store: Store, clock: Clock) -> list[Post]:
    return await handle_arrival(arrival_of(activity), store, clock)


async def handle_card_action(activity: Activity, action: dict[str, Any], store: Store,
                             clock: Clock
                             ) -> tuple[InvokeAnswer, list[tuple[str, Message]], list[Message]]:
    invoke = read_invoke("adaptiveCard/action", {"action": {"type": "Action.Execute", **action}})
    assert invoke is not None, f"not an Action.Execute: {action}"
    return await handle_press(arrival_of(activity), invoke, store, clock)
