"""Configuration from the environment; a mistake stops start-up with one plain sentence."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bot.proactive.graph import GraphSettings
from bot.teams.meeting_notice import MeetingNotice
from dialogs.clock import Clock, ClockFileError, SetClock, SystemClock
from storage import crypto
from storage.database import StoreConfigurationError, check_url

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///marac.db"
APP_TYPES = ("MultiTenant", "SingleTenant", "UserAssignedMSI")


class ConfigurationError(ValueError):
    """Start-up refused; str(error) is the one sentence the operator sees."""


@dataclass(frozen=True)
class Settings:
    app_id: str = ""
    app_password: str = ""
    app_tenant_id: str = ""
    app_type: str = "MultiTenant"
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 3978
    log_level: str = "INFO"
    # "json": one JSON object a line with the turn's or delivery's ids (bot.telemetry).
    log_format: str = "text"
    # Teams' per-request cap is far below this; anything larger is not an activity.
    max_body_bytes: int = 256 * 1024
    # Where OpenID metadata for Bot Framework tokens is fetched; a test may point it locally.
    openid_metadata_url: str = ""
    # Where the desk's Teams SSO tokens' signing keys are listed (bot.desk.tokens); empty:
    # Azure AD's own. A test may point it at a local authority.
    sso_metadata_url: str = ""
    # How often the timer runner wakes (case lists, reminders, the outbox); 0 turns it off.
    timer_seconds: float = 30.0
    # How long a replica may take to send one outbox message before another takes it over.
    outbox_lease_seconds: float = 120.0
    # Fernet keys for identifying data at rest (storage.crypto); the first encrypts.
    encryption_keys: tuple[str, ...] = ()
    # Tenants served besides those of the MARACs in the store (which always are).
    allowed_tenants: frozenset[str] = frozenset()
    # Secure-mailbox email through Microsoft Graph; None: plans go by Teams only.
    graph: GraphSettings | None = None
    index_key: str = ""
    # The bot's public https address: Teams shows its in-meeting notification page from it.
    public_url: str = ""
    # The app's id in the tenant's Teams app catalog: with Graph configured, the bot installs
    # the app for people it cannot reach yet (bot.proactive.installation_graph).
    catalog_app_id: str = ""
    # A clock file (dialogs.clock.SetClock) for tests and demos; empty: the system clock.
    clock_file: str = ""

    @property
    def anonymous(self) -> bool:
        return not self.app_id

    @property
    def meeting_notice(self) -> MeetingNotice | None:
        """In-meeting notifications need a page Teams can open; without one, chat only."""
        if not (self.app_id and self.public_url):
            return None
        return MeetingNotice(self.app_id, self.public_url)

    def clock(self) -> Clock:
        if not self.clock_file:
            return SystemClock()
        try:
            return SetClock(Path(self.clock_file))
        except ClockFileError as error:
            raise ConfigurationError(str(error)) from error

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        try:
            graph = GraphSettings.from_env(env)
        except ValueError as error:
            raise ConfigurationError(str(error)) from error
        settings = cls(
            graph=graph,
            app_id=env.get("MicrosoftAppId", ""),
            app_password=env.get("MicrosoftAppPassword", ""),
            app_tenant_id=env.get("MicrosoftAppTenantId", ""),
            app_type=env.get("MicrosoftAppType", "") or "MultiTenant",
            database_url=env.get("DATABASE_URL", "") or DEFAULT_DATABASE_URL,
            host=env.get("HOST", "") or "127.0.0.1",
            port=_port(env.get("PORT", "") or "3978"),
            log_level=(env.get("LOG_LEVEL", "") or "INFO").upper(),
            log_format=(env.get("LOG_FORMAT", "") or "text").lower(),
            openid_metadata_url=env.get("BOT_OPENID_METADATA", ""),
            sso_metadata_url=env.get("SSO_OPENID_METADATA", ""),
            timer_seconds=_seconds(env.get("TIMER_SECONDS", "") or "30"),
            outbox_lease_seconds=_seconds(env.get("OUTBOX_LEASE_SECONDS", "") or "120",
                                          "OUTBOX_LEASE_SECONDS", least=1),
            encryption_keys=tuple(k.strip() for k in env.get("MARAC_ENCRYPTION_KEYS", "")
                                  .split(",") if k.strip()),
            index_key=env.get("MARAC_INDEX_KEY", ""),
            public_url=env.get("PUBLIC_URL", "").strip(),
            catalog_app_id=env.get("TEAMS_CATALOG_APP_ID", "").strip(),
            clock_file=env.get("MARAC_CLOCK_FILE", "").strip(),
            allowed_tenants=frozenset(t.strip() for t in env.get("ALLOWED_TENANTS", "")
                                      .split(",") if t.strip()),
        )
        settings.check()
        return settings

    def check(self) -> None:
        if self.app_type not in APP_TYPES:
            raise ConfigurationError(
                f"MicrosoftAppType must be one of {', '.join(APP_TYPES)}, not {self.app_type!r}."
            )
        if self.app_id and self.app_type != "UserAssignedMSI" and not self.app_password:
            raise ConfigurationError("MicrosoftAppId is set but MicrosoftAppPassword is empty.")
        if self.app_type == "SingleTenant" and not self.app_tenant_id:
            raise ConfigurationError("A SingleTenant bot needs MicrosoftAppTenantId.")
        if logging.getLevelName(self.log_level) == f"Level {self.log_level}":
            raise ConfigurationError(f"LOG_LEVEL {self.log_level!r} is not a logging level.")
        if self.log_format not in ("text", "json"):
            raise ConfigurationError(f"LOG_FORMAT must be text or json, not {self.log_format!r}.")
        try:
            check_url(self.database_url)
        except StoreConfigurationError as error:
            raise ConfigurationError(str(error)) from error
        if self.public_url and not _is_https_address(self.public_url):
            raise ConfigurationError("PUBLIC_URL must be the bot's https address, like "
                                     f"https://marac.example.gov.uk, not {self.public_url!r}.")
        if self.app_id and self.clock_file:
            raise ConfigurationError("MARAC_CLOCK_FILE sets the clock for tests and demos; a "
                                     "bot with an app id runs on the system clock.")
        if self.app_id and not (self.encryption_keys and self.index_key):
            raise ConfigurationError("A bot with an app id holds real data: set "
                                     "MARAC_ENCRYPTION_KEYS and MARAC_INDEX_KEY.")
        try:
            self.apply_keys()
        except ValueError as error:
            raise ConfigurationError(str(error)) from error

    def apply_keys(self) -> None:
        """Use the configured keys (the development key when none are set)."""
        if self.encryption_keys:
            crypto.configure(list(self.encryption_keys),
                             self.index_key or crypto.DEVELOPMENT_INDEX_KEY)


def _is_https_address(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" and bool(parts.hostname) and not (parts.query or parts.fragment)


def _seconds(value: str, name: str = "TIMER_SECONDS", least: float = 0) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1
    if not least <= seconds <= 3600:
        raise ConfigurationError(f"{name} must be from {least:g} to 3600, not {value!r}.")
    return seconds


def _port(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ConfigurationError(f"PORT must be a number from 1 to 65535, not {value!r}.")
    return int(value)
