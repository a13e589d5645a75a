"""Typed commands and card presses are served from the activity's JSON
(bot.teams.plain_turns): no msrest model of the activity is read, the reply is addressed as
botbuilder addresses one, a reply the Bot Connector refuses is owned up to, and the token is
checked as for any other activity."""

from __future__ import annotations

from typing import Any

import pytest
from botbuilder.schema import Activity

from cards.notice import SOMETHING_WENT_WRONG
from dialogs.demo import DEMO_TENANT
from tests.http.test_api import (  # noqa: F401  (fixtures)
    activity,
    anonymous,
    authority,
    connector,
    conversations,
    secured,
)

CARA = {"id": "user-id-0", "aadObjectId": "0d3a1c00-0000-4000-8000-000000000001",
        "name": "Cara Okafor"}
THREAD = "19:riverside-marac@thread.tacv2;messageid=1700000000000"


@pytest.fixture
def without_msrest_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("msrest read the activity")
    monkeypatch.setattr(Activity, "deserialize", refuse)


def _press(service_url: str) -> dict[str, Any]:
    return activity(service_url, type="invoke", name="adaptiveCard/action", id="p1",
                    replyToId="card-1", **{"from": CARA},
                    value={"action": {"type": "Action.Execute", "verb": "referral.count",
                                      "data": {}}})


async def test_a_typed_command_is_answered_in_its_thread_as_botbuilder_addresses_a_reply(
        anonymous, connector, without_msrest_reading):  # noqa: F811
    client, _ = anonymous
    fake, service_url = connector
    channel = {"id": THREAD, "conversationType": "channel", "tenantId": DEMO_TENANT}
    response = await client.post("/api/messages", json=activity(
        service_url, type="message", text="<at>MARAC</at> help", id="m-7", locale="en-GB",
        conversation=channel, recipient={"id": "28:marac-bot", "name": "MARAC"},
        entities=[{"type": "mention", "text": "<at>MARAC</at>",
                   "mentioned": {"id": "28:marac-bot", "name": "MARAC"}}],
        channelData={"tenant": {"id": DEMO_TENANT},
                     "team": {"id": "19:riverside-marac@thread.tacv2"}}, **{"from": CARA}))
    assert response.status == 201
    [reply] = fake.sent
    assert reply["conversation_id"] == THREAD  # the thread, as its own path segment
    assert {k: reply[k] for k in ("type", "replyToId", "channelId", "serviceUrl", "locale",
                                  "inputHint")} == {
        "type": "message", "replyToId": "m-7", "channelId": "msteams",
        "serviceUrl": service_url, "locale": "en-GB", "inputHint": "acceptingInput"}
    assert reply["from"]["id"] == "28:marac-bot" and reply["recipient"]["id"] == CARA["id"]
    assert reply["conversation"]["id"] == THREAD
    assert reply.get("text") or reply.get("attachments")


async def test_a_press_is_answered_from_its_json(anonymous, connector, without_msrest_reading):  # noqa: F811, E501
    client, _ = anonymous
    _, service_url = connector
    response = await client.post("/api/messages", json=_press(service_url))
    assert response.status == 200
    body = await response.json()
    assert body["type"] == "application/vnd.microsoft.card.adaptive"


async def test_a_reply_the_connector_refuses_is_owned_up_to_not_a_5xx(anonymous, connector):  # noqa: F811
    client, _ = anonymous
    fake, service_url = connector
    fake.refuse_next = [403]
    response = await client.post("/api/messages", json=activity(
        service_url, type="message", text="help", id="m-8", **{"from": CARA}))
    assert response.status == 201
    assert [a.get("text") for a in fake.sent] == [SOMETHING_WENT_WRONG]


@pytest.mark.parametrize("kind", ["typed command", "card press"])
async def test_with_an_app_id_a_command_or_press_without_a_valid_token_gets_401(
        secured, authority, kind):  # noqa: F811
    client, store = secured
    service_url = "https://smba.example/emea/"
    body = (activity(service_url, type="message", text="help", **{"from": CARA})
            if kind == "typed command" else _press(service_url))
    forged = authority.token(audience="someone-else", service_url=service_url)
    for headers in ({}, {"Authorization": f"Bearer {forged}"}):
        response = await client.post("/api/messages", json=body, headers=headers)
        assert response.status == 401
    assert await conversations(store) == 0
