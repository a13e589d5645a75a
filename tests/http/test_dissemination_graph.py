"""Plans emailed through Microsoft Graph to an agency's secure mailbox: msal's real
client-credentials flow against a local fake of the Azure AD token endpoint, and the real
sendMail request against a local fake Graph, both over HTTPS on loopback with a certificate
authority made by the test and handed to msal (and aiohttp) as the CA to trust. A Graph that
fails twice then takes the mail shows the retry; one that keeps failing shows the email marked
failed with its reason, the coordinator told, and the row kept."""

from __future__ import annotations

import base64
import io
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from docx import Document
from sqlalchemy import select

from bot.proactive.graph import GraphMailer, GraphSettings, deliver_mail
from dialogs import dissemination
from storage.models import MailMessage
from tests.store.meeting_factory import next_case
from tests.store.plan_factory import add_mailbox, heard, outbox, recipients, tick

TENANT = "6a1f0c2e-5d0b-4c55-9a3e-7f3c4b2d9e10"
CLIENT_ID = "b0d4c6a2-1f3e-4d5c-8a9b-0c1d2e3f4a5b"
SECRET = "not-a-real-secret"
SENDER = "marac@riverside.example.gov.uk"
MAILBOX = "marac@health.example.nhs.uk"


def certificates(folder: Path) -> tuple[Path, ssl.SSLContext]:
    """A certificate authority and a loopback server certificate it signed: the CA's file,
    and the server's TLS context."""
    now = datetime.now(UTC)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("MARAC test CA"))
          .issuer_name(name("MARAC test CA")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(IPv4Address("127.0.0.1")), x509.DNSName("localhost")]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "server.pem", folder / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return ca_file, context


@dataclass
class FakeMicrosoft:
    """Azure AD's OpenID metadata and token endpoint, and Graph's sendMail, for one tenant."""

    base: str = ""
    tokens_issued: int = 0
    mails: list[dict[str, Any]] = field(default_factory=list)
    refuse_mail: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    refuse_token: bool = False

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(f"/{TENANT}/v2.0/.well-known/openid-configuration", self._metadata)
        app.router.add_post(f"/{TENANT}/oauth2/v2.0/token", self._token)
        app.router.add_post(f"/v1.0/users/{SENDER}/sendMail", self._send)
        return app

    async def _metadata(self, request: web.Request) -> web.Response:
        return web.json_response({
            "issuer": f"{self.base}/{TENANT}/v2.0",
            "authorization_endpoint": f"{self.base}/{TENANT}/oauth2/v2.0/authorize",
            "token_endpoint": f"{self.base}/{TENANT}/oauth2/v2.0/token",
        })

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if (self.refuse_token or form.get("client_secret") != SECRET
                or form.get("client_id") != CLIENT_ID
                or form.get("grant_type") != "client_credentials"
                or form.get("scope") != f"{self.base}/.default"):
            return web.json_response({"error": "invalid_client",
                                      "error_description": "AADSTS7000215: Invalid client "
                                                           "secret provided."}, status=401)
        self.tokens_issued += 1
        return web.json_response({"token_type": "Bearer", "expires_in": 3599,
                                  "access_token": f"graph-token-{self.tokens_issued}"})

    async def _send(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization", "") != f"Bearer graph-token-{self.tokens_issued}":
            return web.json_response({"error": {"code": "InvalidAuthenticationToken"}},
                                     status=401)
        if self.refuse_mail:
            status, headers = self.refuse_mail.pop(0)
            return web.json_response({"error": {"code": "ServiceUnavailable"}}, status=status,
                                     headers=headers)
        self.mails.append(await request.json())
        return web.Response(status=202)


@pytest.fixture
async def microsoft(tmp_path) -> AsyncIterator[tuple[FakeMicrosoft, GraphMailer]]:
    ca_file, context = certificates(tmp_path)
    fake = FakeMicrosoft()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server(ssl=context)
    fake.base = str(server.make_url("")).rstrip("/")
    assert fake.base.startswith("https://127.0.0.1:")
    mailer = GraphMailer(GraphSettings(TENANT, CLIENT_ID, SECRET, SENDER,
                                       authority_host=fake.base, graph_url=fake.base,
                                       ca_bundle=str(ca_file)))
    yield fake, mailer
    await server.close()


async def plan_for_health(store, clock):
    """The first case heard with Health's secure mailbox on record, and its plan queued."""
    h = await heard(store, clock, close=False)
    await add_mailbox(store, h.demo.agencies["Health"], MAILBOX)
    await next_case(store, clock)
    await tick(store, clock)
    return h


async def mail_row(store) -> MailMessage:
    async with store.unit_of_work() as session:
        (message,) = (await session.scalars(select(MailMessage))).all()
        return message


def later(clock, seconds: float) -> None:
    clock.set(clock.now() + timedelta(seconds=seconds))


async def test_the_plan_is_emailed_with_the_document_attached_after_two_refusals(
        store, clock, microsoft):
    fake, mailer = microsoft
    h = await plan_for_health(store, clock)
    fake.refuse_mail = [(503, {}), (429, {"Retry-After": "120"})]
    assert await deliver_mail(store, mailer, clock) == 0
    first = await mail_row(store)
    assert first.last_error.startswith("sendMail answered 503")
    assert first.next_attempt_at == clock.now() + timedelta(seconds=30)
    later(clock, 30)
    assert await deliver_mail(store, mailer, clock) == 0
    throttled = await mail_row(store)
    assert throttled.next_attempt_at == clock.now() + timedelta(seconds=120)  # Retry-After
    later(clock, 119)
    assert await deliver_mail(store, mailer, clock) == 0  # not before Graph said
    later(clock, 1)
    assert await deliver_mail(store, mailer, clock) == 1
    assert await deliver_mail(store, mailer, clock) == 0  # sent once
    sent = await mail_row(store)
    assert (sent.attempts, sent.delivered_at, sent.failed_at) == (3, clock.now(), None)
    assert fake.tokens_issued == 1  # msal's cache kept the token across the retries
    (mail,) = fake.mails
    message = mail["message"]
    assert message["toRecipients"] == [{"emailAddress": {"address": MAILBOX}}]
    assert message["subject"] == f"MARAC action plan {h.number}"
    assert "Amy" not in message["subject"]  # a case number, never a name
    (attachment,) = message["attachments"]
    assert attachment["name"] == f"MARAC-plan-{h.number}-v1.docx"
    document = Document(io.BytesIO(base64.b64decode(attachment["contentBytes"])))
    text = "\n".join(p.text for p in document.paragraphs)
    assert f"MARAC action plan {h.number}" in text
    async with store.unit_of_work() as session:
        (state, *_) = await dissemination.status(session, h.demo.marac_id, clock.now())
    assert {a.agency: a.state for a in state.agencies}["Health"] == "delivered"


async def test_a_graph_that_keeps_failing_marks_the_email_failed_and_tells_the_coordinator(
        store, clock, microsoft):
    fake, mailer = microsoft
    h = await plan_for_health(store, clock)
    fake.refuse_mail = [(500, {})] * 100
    for _ in range(10):
        await deliver_mail(store, mailer, clock)
        later(clock, 2 * 3600)
    failed = await mail_row(store)
    assert failed.failed_at is not None and failed.delivered_at is None
    assert failed.attempts == 8 and failed.last_error.startswith("sendMail answered 500")
    assert fake.mails == []
    await tick(store, clock)
    await tick(store, clock)
    assert await recipients(store, "dissemination failed") == ["Cara"]
    (notice,) = await outbox(store, "dissemination failed")
    assert f"The plan for {h.number} could not be delivered to Health (email)" in (
        notice.activity["text"])
    async with store.unit_of_work() as session:
        (state, *_) = await dissemination.status(session, h.demo.marac_id, clock.now())
    health = {a.agency: a for a in state.agencies}["Health"]
    assert (health.state, health.detail[:22]) == ("failed", "sendMail answered 500:")


async def test_a_refused_token_is_retried_like_any_failure(store, clock, microsoft):
    fake, mailer = microsoft
    await plan_for_health(store, clock)
    fake.refuse_token = True
    assert await deliver_mail(store, mailer, clock) == 0
    refused = await mail_row(store)
    assert refused.last_error.startswith("token: invalid_client: AADSTS7000215")
    fake.refuse_token = False
    later(clock, 30)
    assert await deliver_mail(store, mailer, clock) == 1


def test_email_settings_come_whole_or_not_at_all():
    assert GraphSettings.from_env({}) is None
    with pytest.raises(ValueError, match="GRAPH_CLIENT_SECRET, GRAPH_SENDER"):
        GraphSettings.from_env({"GRAPH_TENANT_ID": TENANT, "GRAPH_CLIENT_ID": CLIENT_ID})
    settings = GraphSettings.from_env({"GRAPH_TENANT_ID": TENANT, "GRAPH_CLIENT_ID": CLIENT_ID,
                                       "GRAPH_CLIENT_SECRET": SECRET, "GRAPH_SENDER": SENDER})
    assert settings is not None and settings.authority_host == (
        "https://login.microsoftonline.com")
