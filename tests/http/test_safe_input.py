"""Control characters pasted into a card (a plan update here) are made safe where the press
comes in, over HTTP: what is stored, shown and rendered to Word holds none of them."""

from __future__ import annotations

import io

from aiohttp.test_utils import TestClient, TestServer
from docx import Document
from sqlalchemy import select

from bot.config import Settings
from bot.features.plan_export import render_docx
from bot.teams.app import create_app
from dialogs.demo import DEMO_PEOPLE
from dialogs.plans import show
from storage.models import PlanUpdate, Role
from tests.http.connector import Connector
from tests.http.test_hostile_input import invoke
from tests.store.plan_factory import heard, tick


async def test_a_plan_update_with_control_characters_is_stored_safe_and_renders(
        database_url, store, clock):
    h = await heard(store, clock)
    await tick(store, clock)
    priya = next(p for p in DEMO_PEOPLE if p.full_name.startswith("Priya"))
    fake = Connector()
    async with TestServer(fake.app) as teams:
        client = TestClient(TestServer(create_app(Settings(database_url=database_url), store,
                                                  clock)))
        await client.start_server()
        try:
            response = await client.post("/api/messages", json=invoke(
                "plan.update", {"case": h.number, "text": "Seen nearby\x01 on\x0bFriday\x1b "
                                "again\ufffe.", "risk_raised": "false"},
                priya, "personal", str(teams.make_url("/"))))
            answer = await response.json()
        finally:
            await client.close()
    assert response.status == 200
    assert answer["value"].startswith(f"Added to the plan for {h.number}")
    async with store.unit_of_work() as session:
        [update] = (await session.scalars(select(PlanUpdate))).all()
        seen = await show(session, h.demo.marac_id, h.number, frozenset({Role.COORDINATOR}),
                          h.demo.people["Cara"])
    assert update.text == "Seen nearby on Friday again."
    document = Document(io.BytesIO(render_docx(seen)))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    assert "Seen nearby on Friday again." in cells
