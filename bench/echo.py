"""The framework's floor: two echo bots that handle the same activities as the MARAC bot.

- `botbuilder`: the stock botbuilder-python echo bot (CloudAdapter, ActivityHandler,
  anonymous authentication), as Microsoft's sample has it.
- `bare`: an aiohttp handler that parses the activity and posts the reply to the connector
  itself.

Both echo a message's text back to the conversation; a card press (an Action.Execute invoke)
is answered with a one-line card naming its verb, and the verb is also posted to the
conversation, so that each activity costs one call to the connector, as the MARAC bot's card
presses (one card update) and commands do.

`python -m bench.echo botbuilder|bare --port PORT`; GET /healthz answers when it is up."""

from __future__ import annotations

import argparse
from types import SimpleNamespace
from typing import Any

from aiohttp import ClientSession, web
from botbuilder.core import ActivityHandler, InvokeResponse, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import AdaptiveCardInvokeResponse

CARD_TYPE = "application/vnd.microsoft.card.adaptive"


def _card(verb: str) -> dict[str, Any]:
    return {"type": "AdaptiveCard", "version": "1.5",
            "body": [{"type": "TextBlock", "text": f"Pressed: {verb}"}]}


class EchoBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(MessageFactory.text(f"Echo: {turn_context.activity.text}"))

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        # Not on_adaptive_card_invoke: botbuilder 4.17 serializes its answer twice and fails
        # (ActivityHandler._create_invoke_response, then CloudAdapter.process).
        action = (turn_context.activity.value or {}).get("action") or {}
        verb = str(action.get("verb"))
        await turn_context.send_activity(MessageFactory.text(f"Pressed: {verb}"))
        return InvokeResponse(status=200, body=AdaptiveCardInvokeResponse(
            status_code=200, type=CARD_TYPE, value=_card(verb)))


def botbuilder_app() -> web.Application:
    configuration = SimpleNamespace(APP_ID="", APP_PASSWORD="", APP_TYPE="MultiTenant",
                                    APP_TENANTID="")
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(configuration))
    bot = EchoBot()

    async def messages(request: web.Request) -> web.Response:
        return await adapter.process(request, bot)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", _healthz)
    return app


def bare_app() -> web.Application:
    app = web.Application()
    sessions: list[ClientSession] = []

    async def open_session(app: web.Application) -> None:
        sessions.append(ClientSession())

    async def close_session(app: web.Application) -> None:
        await sessions[0].close()

    async def messages(request: web.Request) -> web.Response:
        activity = await request.json()
        verb = _verb(activity)
        text = f"Pressed: {verb}" if verb is not None else f"Echo: {activity.get('text')}"
        await _reply(sessions[0], activity, text)
        if verb is None:
            return web.Response(status=201)
        return web.json_response({"statusCode": 200, "type": CARD_TYPE, "value": _card(verb)})

    app.on_startup.append(open_session)
    app.on_cleanup.append(close_session)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", _healthz)
    return app


def _verb(activity: dict[str, Any]) -> str | None:
    if activity.get("type") != "invoke":
        return None
    return str(((activity.get("value") or {}).get("action") or {}).get("verb"))


async def _reply(session: ClientSession, activity: dict[str, Any], text: str) -> None:
    conversation = activity["conversation"]["id"]
    url = (f"{activity['serviceUrl'].rstrip('/')}/v3/conversations/{conversation}"
           f"/activities/{activity['id']}")
    reply = {"type": "message", "text": text, "from": activity["recipient"],
             "recipient": activity["from"], "conversation": activity["conversation"],
             "replyToId": activity["id"], "channelId": activity.get("channelId")}
    async with session.post(url, json=reply) as response:
        response.raise_for_status()


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=("botbuilder", "bare"))
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = botbuilder_app() if args.kind == "botbuilder" else bare_app()
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
