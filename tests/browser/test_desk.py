"""The desk and the meeting's side panel in a real headless Chromium: the coordinator accepts
a referral from triage and sees it on the agenda, a representative acknowledges an action, the
chair presses Next while another person's panel follows, and an observer's panel has no
buttons and its request to advance is refused and audited. Each page passes axe-core's
WCAG 2.2 AA check with no serious or critical violation."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.config import Settings
from bot.teams.app import create_app
from dialogs.demo import DEMO_TEAM
from storage.models import ActionFollowUp, ActionStatus, AuditEvent
from tests.browser.conftest import dumps, open_page, screenshot, serious_violations
from tests.store.meeting_factory import later, started
from tests.store.plan_factory import follow_up_of, heard, tick
from tests.store.referral_factory import refer, seeded

PANEL = f"/desk/panel?team={DEMO_TEAM}&channel={DEMO_TEAM}"
pytestmark = pytest.mark.browser


async def test_the_coordinator_accepts_a_referral_and_sees_it_on_the_agenda(
        store, clock, site, browser, tmp_path):
    await refer(store, clock, await seeded(store, clock))
    page = await open_page(browser, site.address("/desk/", "Cara"))
    triage = page.locator("#section-triage")
    await triage.get_by_text("Jess (RIV-V-0001)").wait_for()
    assert await serious_violations(page) == [], dumps(await serious_violations(page))
    await screenshot(page, "desk-light", tmp_path)
    await page.get_by_role("button", name="Decline RIV-V-0001").click()  # with no reason
    await page.locator("#status", has_text="A reason is needed to decline.").wait_for()
    await triage.get_by_text("Jess (RIV-V-0001)").wait_for()  # still waiting for triage
    await page.get_by_role("button", name="Accept RIV-V-0001").click()
    await triage.get_by_text("No referral is waiting for triage.").wait_for()
    await page.locator("#section-agendas").get_by_text("Jess").wait_for()
    assert await page.locator("#status").text_content() == "Done."
    assert page.errors == []


async def test_the_desk_in_the_dark_theme_is_accessible(store, clock, site, browser, tmp_path):
    await refer(store, clock, await seeded(store, clock))
    for theme in ("dark", "contrast"):
        page = await open_page(browser, site.address(f"/desk/?theme={theme}", "Cara"))
        await page.locator("#section-triage").get_by_text("Jess (RIV-V-0001)").wait_for()
        assert await page.evaluate("document.documentElement.dataset.theme") == theme
        assert await serious_violations(page) == [], dumps(await serious_violations(page))
        if theme == "dark":
            await screenshot(page, "desk-dark", tmp_path)
        assert page.errors == []


async def test_a_representative_acknowledges_an_action(store, clock, site, browser):
    h = await heard(store, clock)
    await tick(store, clock)
    page = await open_page(browser, site.address("/desk/", "Priya"))
    actions = page.locator("#section-actions")
    acknowledge = actions.get_by_role("button", name=f"Acknowledge the action on {h.number}")
    await acknowledge.focus()  # by keyboard: focused, then Enter
    await page.keyboard.press("Enter")
    await actions.get_by_text("status acknowledged").wait_for()
    assert await acknowledge.count() == 0
    async with store.unit_of_work() as session:
        follow_up = await session.get_one(ActionFollowUp,
                                          await follow_up_of(store, h.actions["Priya"]))
        assert follow_up.status is ActionStatus.ACKNOWLEDGED
    assert await serious_violations(page) == [], dumps(await serious_violations(page))
    assert page.errors == []


async def test_the_chair_presses_next_and_another_panel_follows(
        store, clock, site, browser, tmp_path):
    demo = await started(store, clock)
    chair = await open_page(browser, site.address(PANEL, "Chris"))
    other = await open_page(browser, site.address(PANEL + "&theme=dark", "Priya"))
    await chair.get_by_text("No case is open.").wait_for()
    await chair.get_by_role("button", name="Next").click()
    first = f"{demo.numbers[0]} Amy"
    await other.locator("#current", has_text=first).wait_for()
    await other.locator("#clock", has_text="20:00").wait_for()
    assert await other.locator("#controls fluent-button").count() == 0
    later(clock, 16 * 60)  # 4 minutes left of the 20: the warning
    await other.locator("#clock.warning", has_text="04:00").wait_for()
    await other.get_by_text("Five minutes or less of the slot remain.").wait_for()
    later(clock, 5 * 60)  # a minute over
    await other.locator("#clock.overrun", has_text="+01:00").wait_for()
    await other.get_by_text("The slot is over by 01:00.").wait_for()
    for page, name in ((chair, "panel-light"), (other, "panel-dark")):
        assert await serious_violations(page) == [], dumps(await serious_violations(page))
        await screenshot(page, name, tmp_path)
        assert page.errors == []


async def test_an_observers_panel_has_no_buttons_and_cannot_advance(store, clock, site, browser):
    demo = await started(store, clock)
    page = await open_page(browser, site.address(PANEL, "Owen"))
    await page.locator("#agenda li", has_text=demo.numbers[0]).wait_for()
    assert await page.locator("fluent-button, button").count() == 0
    assert await serious_violations(page) == [], dumps(await serious_violations(page))
    assert page.errors == []
    token = site.token("Owen")
    status = await page.evaluate(
        """async ([token, place]) => (await fetch('/desk/api/panel/next?' + place,
               {method: 'POST', headers: {Authorization: 'Bearer ' + token}})).status""",
        [token, PANEL.split("?")[1]])
    assert status == 403
    async with store.unit_of_work() as session:
        refused = (await session.scalars(select(AuditEvent).where(
            AuditEvent.action == "next"))).all()
    assert [(r.outcome, r.place) for r in refused] == [("refused", "channel")]


async def test_marac_devs_sign_in_page_opens_the_desk_as_a_demo_person(store, clock, browser):
    await started(store, clock)
    server = TestServer(create_app(Settings(timer_seconds=0), store, clock))
    await server.start_server()
    try:
        page = await open_page(browser, str(server.make_url("/desk/dev")), ready=False)
        await page.get_by_role("button", name="Sign in as Priya").click()
        await page.wait_for_selector("body[data-ready=true]")
        await page.get_by_text("Signed in as Priya").wait_for()
        assert await serious_violations(page) == [], dumps(await serious_violations(page))
        assert page.errors == []
    finally:
        await server.close()
