"""Typed commands and card presses check the tenant inside their own unit of work: another
organisation's press or command is told so, and nothing of theirs is stored (no audit row, no
replay record); the answer to a press is the card botbuilder would have sent."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import AuditEvent, ProcessedMessage
from tests.http.test_api import activity, anonymous, connector  # noqa: F401  (fixtures)

NOT_HERE = "This MARAC bot is not set up for your organisation, so I can't help here."


def _press(service_url: str, tenant: str) -> dict[str, object]:
    return activity(service_url, type="invoke", name="adaptiveCard/action", id="p1",
                    replyToId="card-1",
                    conversation={"id": "a-chat", "conversationType": "personal",
                                  "tenantId": tenant},
                    value={"action": {"type": "Action.Execute", "verb": "referral.count",
                                      "data": {}}})


async def _count(store, model) -> int:  # type: ignore[no-untyped-def]
    async with store.unit_of_work() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_another_organisations_press_and_command_store_nothing(anonymous, connector):  # noqa: F811
    client, store = anonymous
    fake, service_url = connector
    for _ in range(2):  # a retried delivery is refused again, not taken for a replay
        response = await client.post("/api/messages", json=_press(service_url, "another"))
        assert response.status == 200
        assert await response.json() == {
            "statusCode": 200, "type": "application/vnd.microsoft.activity.message",
            "value": NOT_HERE}
        response = await client.post("/api/messages", json=activity(
            service_url, type="message", text="help", id="m1",
            conversation={"id": "a-chat", "conversationType": "personal",
                          "tenantId": "another"}))
        assert response.status == 201
    assert [a.get("text") for a in fake.sent] == [NOT_HERE, NOT_HERE]
    assert await _count(store, AuditEvent) == 0
    assert await _count(store, ProcessedMessage) == 0


async def test_a_press_is_answered_with_its_card_and_audited(anonymous, connector):  # noqa: F811
    client, store = anonymous
    _, service_url = connector
    from dialogs.demo import DEMO_TENANT
    response = await client.post("/api/messages", json=_press(service_url, DEMO_TENANT))
    assert response.status == 200
    body = await response.json()
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert body["value"]["type"] == "AdaptiveCard"
    assert await _count(store, AuditEvent) == 1
