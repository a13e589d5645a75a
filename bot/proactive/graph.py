"""Microsoft Graph mail: plans emailed to agencies' secure mailboxes, the plan attached as a
Word document. The token comes from msal's client-credentials flow (the bot's own app
registration, with the Mail.Send application permission, limited by an application access
policy to the MARAC's sending mailbox); the mail goes through `POST /users/{sender}/sendMail`.

Mail is delivered from the mail outbox (storage.models.MailMessage) like Teams messages are
from the outbox: claimed with a lease, retried with backoff (honouring Retry-After), and marked
failed with the reason after the last attempt, when the coordinators are told
(dialogs.dissemination.claim_failures). A message's only possible recipient is the agency
mailbox its row points to.

Configuration (all needed to turn email on): GRAPH_TENANT_ID, GRAPH_CLIENT_ID,
GRAPH_CLIENT_SECRET, GRAPH_SENDER (the mailbox to send from). In Azure, GRAPH_MANAGED_IDENTITY=true
instead of the secret: the token is the user-assigned managed identity's (GRAPH_CLIENT_ID is
its client id), from msal's managed identity client (storage.identity); the secret remains
the fallback where the identity cannot be given Mail.Send (and for local use).
GRAPH_AUTHORITY_HOST and GRAPH_URL default to Microsoft's public cloud; GRAPH_CA_BUNDLE names
a CA file to trust (tests serve both on loopback with their own certificate)."""

from __future__ import annotations

import asyncio
import base64
import functools
import logging
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
import msal
import requests
from sqlalchemy import select

from bot.features.documents import MARKING
from bot.features.plan_export import DOCX_TYPE, file_name, render_docx
from bot.proactive.outbox import LEASE, MAX_ATTEMPTS, backoff
from dialogs.clock import Clock
from dialogs.plans import seen_version
from storage import identity
from storage.database import Store
from storage.models import (
    Agency,
    AgencyMailbox,
    Case,
    MailMessage,
    Marac,
    Meeting,
    PlanVersion,
)

log = logging.getLogger(__name__)
BATCH = 10


class MailError(Exception):
    """Graph or the token endpoint refused; retried until it is sent or the attempts run out."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class GraphSettings:
    tenant_id: str
    client_id: str
    client_secret: str
    sender: str
    authority_host: str = "https://login.microsoftonline.com"
    graph_url: str = "https://graph.microsoft.com"
    ca_bundle: str = ""  # a CA file to trust instead of the system's
    managed_identity: bool = False  # the token from the managed identity, not the secret

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GraphSettings | None:
        """The settings, or None when email is not configured (Teams delivery only)."""
        env = os.environ if env is None else env
        managed = env.get("GRAPH_MANAGED_IDENTITY", "").lower() in ("true", "1", "yes")
        names = ("GRAPH_TENANT_ID", "GRAPH_CLIENT_ID", "GRAPH_CLIENT_SECRET", "GRAPH_SENDER")
        values = [env.get(name, "") for name in names]
        if not any(values):
            return None
        if managed and not values[2]:
            values[2] = "(managed identity)"  # never sent: the identity's token is used
        missing = [name for name, value in zip(names, values, strict=True) if not value]
        if missing:
            raise ValueError(f"Email through Microsoft Graph needs {', '.join(missing)} too.")
        tenant_id, client_id, client_secret, sender = values
        return cls(tenant_id, client_id, client_secret, sender,
                   authority_host=env.get("GRAPH_AUTHORITY_HOST", "") or cls.authority_host,
                   graph_url=env.get("GRAPH_URL", "") or cls.graph_url,
                   ca_bundle=env.get("GRAPH_CA_BUNDLE", ""),
                   managed_identity=managed and not env.get("GRAPH_CLIENT_SECRET", ""))


class GraphMailer:
    def __init__(self, settings: GraphSettings, timeout_seconds: float = 30.0) -> None:
        self.settings = settings
        self.timeout = timeout_seconds
        self._app: msal.ConfidentialClientApplication | None = None

    def _client(self) -> msal.ConfidentialClientApplication:
        if self._app is None:  # created lazily: msal fetches the tenant's metadata here
            settings = self.settings
            self._app = msal.ConfidentialClientApplication(
                settings.client_id, client_credential=settings.client_secret,
                authority=f"{settings.authority_host.rstrip('/')}/{settings.tenant_id}",
                # A known Microsoft host needs no discovery; a sovereign or test host is
                # trusted as configured.
                instance_discovery=False, http_client=self._http(), timeout=self.timeout)
        return self._app

    def _http(self) -> requests.Session | None:
        """msal's HTTP client, when a CA of our own is to be trusted. Given per request: with
        REQUESTS_CA_BUNDLE set, requests would ignore a session's `verify` (what msal's own
        `verify=` sets) in favour of the environment's bundle."""
        if not self.settings.ca_bundle:
            return None
        session = requests.Session()
        session.request = functools.partial(  # type: ignore[method-assign]
            session.request, verify=self.settings.ca_bundle, timeout=self.timeout)
        return session

    def _acquire(self) -> dict[str, Any]:
        if self.settings.managed_identity:
            return identity.acquire(self.settings.client_id, self.settings.graph_url)
        scope = f"{self.settings.graph_url.rstrip('/')}/.default"
        result: dict[str, Any] = self._client().acquire_token_for_client(scopes=[scope])
        return result

    async def token(self) -> str:
        """An app-only token for Graph; msal keeps it cached until it nearly expires."""
        try:
            result = await asyncio.to_thread(self._acquire)
        except Exception as error:  # msal raises ValueError or requests' errors
            self._app = None  # the tenant's metadata is fetched again next time
            raise MailError(f"token: {type(error).__name__}: {error}") from error
        if "access_token" not in result:
            raise MailError(f"token: {result.get('error')}: "
                            f"{str(result.get('error_description', ''))[:300]}")
        return str(result["access_token"])

    def _ssl(self) -> ssl.SSLContext | bool:
        if self.settings.ca_bundle:
            return ssl.create_default_context(cafile=self.settings.ca_bundle)
        return True

    async def send(self, to: str, subject: str, text: str, attachment_name: str,
                   attachment: bytes) -> None:
        token = await self.token()
        message = {
            "message": {
                "subject": subject,
                "body": {"contentType": "Text", "content": text},
                "toRecipients": [{"emailAddress": {"address": to}}],
                "attachments": [{
                    "@odata.type": "#microsoft.graph.fileAttachment",
                    "name": attachment_name, "contentType": DOCX_TYPE,
                    "contentBytes": base64.b64encode(attachment).decode(),
                }],
            },
            "saveToSentItems": False,
        }
        url = f"{self.settings.graph_url.rstrip('/')}/v1.0/users/{self.settings.sender}/sendMail"
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as client, client.post(
                    url, json=message, ssl=self._ssl(),
                    headers={"Authorization": f"Bearer {token}"}) as response:
                if response.status == 202:
                    return
                body = (await response.text())[:300]
                retry = response.headers.get("Retry-After", "")
        except (aiohttp.ClientError, TimeoutError) as error:
            raise MailError(f"sendMail: {type(error).__name__}: {error}") from error
        raise MailError(f"sendMail answered {response.status}: {body}",
                        float(retry) if retry.isdigit() else None)


def mail_text(number: str, marac: str) -> str:
    return (f"The {marac} action plan for {number} is attached ({MARKING}). It is shared "
            "under the information sharing agreement: store it in your case system, share it "
            "only with those who need to know, and do not forward it. Reply to your MARAC "
            "coordinator, not to this address.")


async def _prepared(store: Store, mail_id: int) -> tuple[str, str, str, str, bytes]:
    """To, subject, text, file name and Word document of one email."""
    async with store.unit_of_work() as session:
        message = await session.get_one(MailMessage, mail_id)
        mailbox = await session.get_one(AgencyMailbox, message.mailbox_id)
        version = await session.get_one(PlanVersion, message.plan_version_id)
        case = await session.get_one(Case, version.case_id)
        marac = await session.scalar(select(Marac).join(Meeting, Meeting.marac_id == Marac.id)
                                     .where(Meeting.id == case.meeting_id))
        agency = await session.get_one(Agency, mailbox.agency_id)
        assert marac is not None and agency.marac_id == marac.id
        seen = await seen_version(session, version)
        return (mailbox.address, message.subject, mail_text(case.number, marac.name),
                file_name(seen), render_docx(seen, marac.timezone))


async def deliver_mail(store: Store, mailer: GraphMailer, clock: Clock) -> int:
    """Send the due emails; how many were sent."""
    async with store.unit_of_work() as session:
        now = clock.now()
        due = list((await session.scalars(
            select(MailMessage)
            .where(MailMessage.delivered_at.is_(None), MailMessage.failed_at.is_(None),
                   MailMessage.next_attempt_at <= now)
            .order_by(MailMessage.next_attempt_at, MailMessage.id).limit(BATCH)
            .with_for_update(skip_locked=True))).all())
        for message in due:
            message.attempts += 1
            message.next_attempt_at = now + LEASE
        claimed = [message.id for message in due]
    sent = 0
    for mail_id in claimed:
        sent += await _deliver_one(store, mailer, clock, mail_id)
    return sent


async def _deliver_one(store: Store, mailer: GraphMailer, clock: Clock, mail_id: int) -> int:
    """Send one email and settle it: delivered, or its reason recorded and retried later.
    Whatever goes wrong with this one, the next is tried."""
    error: MailError | None = None
    try:
        to, subject, body, name, document = await _prepared(store, mail_id)
        await mailer.send(to, subject, body, name, document)
    except MailError as failed:
        error = failed
    except Exception as failed:  # a plan that cannot be rendered must not block the rest
        log.exception("mail %s could not be prepared", mail_id)
        error = MailError("The plan could not be prepared for email: "
                          f"{type(failed).__name__}: {failed}")
    async with store.unit_of_work() as session:
        message = await session.get_one(MailMessage, mail_id)
        now = clock.now()
        if error is None:
            message.delivered_at, message.last_error = now, ""
            return 1
        log.warning("mail %s not sent (attempt %s): %s", mail_id, message.attempts, error)
        message.last_error = str(error)[:2000]
        if message.attempts >= MAX_ATTEMPTS:
            message.failed_at = now
        else:
            wait = backoff(message.attempts)
            if error.retry_after:
                wait = max(wait, timedelta(seconds=error.retry_after))
            message.next_attempt_at = now + wait
    return 0

