"""`report [PERIOD]` over HTTP: the coordinator gets the figures card (valid for Teams), a
period that cannot be read is one sentence, and an agency representative is refused in one
sentence, audited."""

from __future__ import annotations

from sqlalchemy import select

from dialogs.demo import DEMO_TENANT
from storage.models import AuditEvent
from tests.cards_check import assert_valid_for_teams
from tests.http import test_api
from tests.store.referral_factory import is_one_sentence

activity, anonymous, connector = test_api.activity, test_api.anonymous, test_api.connector
CARA = {"id": "user-id-0", "aadObjectId": "0d3a1c00-0000-4000-8000-000000000001"}
PRIYA = {"id": "user-id-3", "aadObjectId": "0d3a1c00-0000-4000-8000-000000000004"}


async def test_report_answers_the_coordinator_and_refuses_a_representative(
        anonymous, connector):
    client, store = anonymous
    fake, service_url = connector
    for n, (who, text) in enumerate(((CARA, "report 2026"), (CARA, "report someday"),
                                     (PRIYA, "report"))):
        response = await client.post("/api/messages", json=activity(
            service_url, type="message", text=text, id=f"m{n}", **{"from": who},
            conversation={"id": f"personal-{who['id']}", "conversationType": "personal",
                          "tenantId": DEMO_TENANT}))
        assert response.status in (200, 201)
    card, unread, refused = fake.sent
    content = card["attachments"][0]["content"]
    assert_valid_for_teams(content)
    assert "Riverside MARAC: figures" in str(content)
    assert is_one_sentence(unread["text"]) and unread["text"].startswith("Give the period")
    assert is_one_sentence(refused["text"]) and "report" in refused["text"]
    async with store.unit_of_work() as session:
        audit = (await session.scalars(select(AuditEvent).where(
            AuditEvent.action == "report").order_by(AuditEvent.id))).all()
    assert [a.outcome for a in audit] == ["done", "done", "refused"]
