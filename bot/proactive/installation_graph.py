"""Installing the MARAC app for someone the bot cannot reach yet (in no team it is installed
in): `POST /users/{id}/teamwork/installedApps` through Microsoft Graph, with the app-only token
msal's client-credentials flow gives (as bot.proactive.graph does for mail; application permission
TeamsAppInstallation.ReadWriteSelfForUser.All). Teams then reports the personal installation
to the bot, which learns the person's Teams id (bot.turns.access), and the outbox delivers at its
next attempt. A refused install is the message's reason: retried with the outbox's attempts,
then failed, which dissemination shows and the coordinator is told of."""

from __future__ import annotations

import logging

import aiohttp
from sqlalchemy import update

from bot.proactive.graph import GraphMailer, MailError
from dialogs.clock import Clock
from storage.database import Store
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

WAITING = "The app was installed for them; waiting for Teams to report the installation."


class InstallRefused(Exception):
    """Graph would not install the app: the reason, in one sentence."""


class AppInstaller:
    def __init__(self, graph: GraphMailer, catalog_app_id: str) -> None:
        self.graph = graph
        self.catalog_app_id = catalog_app_id

    async def install(self, aad_object_id: str) -> None:
        """Install the app in the person's personal scope; already installed is fine."""
        try:
            token = await self.graph.token()
        except MailError as error:
            raise InstallRefused(f"Teams app install: {error}") from error
        base = self.graph.settings.graph_url.rstrip("/")
        body = {"teamsApp@odata.bind": f"{base}/v1.0/appCatalogs/teamsApps/{self.catalog_app_id}"}
        url = f"{base}/v1.0/users/{aad_object_id}/teamwork/installedApps"
        try:
            async with aiohttp.ClientSession(
                    timeout=aiohttp.ClientTimeout(total=self.graph.timeout)) as client, \
                    client.post(url, json=body, ssl=self.graph._ssl(),  # noqa: SLF001
                                headers={"Authorization": f"Bearer {token}"}) as response:
                if response.status in (201, 409):  # installed now, or already
                    return
                detail = (await response.text())[:300]
        except (aiohttp.ClientError, TimeoutError) as error:
            raise InstallRefused(f"Teams app install: {type(error).__name__}: {error}") from error
        raise InstallRefused(f"Teams refused to install the app for them ({response.status}): "
                             f"{detail}")


async def install_for(store: Store, installer: AppInstaller, clock: Clock,
                      waiting: list[tuple[int, str]]) -> None:
    """Install the app for each (outbox message, person's Azure AD id) and note the outcome
    as the message's reason; the outbox's next attempt then delivers or tries again."""
    messages: dict[str, list[int]] = {}
    for message_id, aad_object_id in waiting:  # one install per person, however many waiting
        messages.setdefault(aad_object_id, []).append(message_id)
    for aad_object_id, ids in messages.items():
        try:
            await installer.install(aad_object_id)
            reason = WAITING
        except InstallRefused as refused:
            reason = str(refused)
            log.warning("outbox %s: %s", ids, reason)
        async with store.unit_of_work() as session:
            await session.execute(update(OutboxMessage).where(
                OutboxMessage.id.in_(ids), OutboxMessage.delivered_at.is_(None))
                .values(last_error=reason[:2000]))
