"""Importing the police feed (a CSV export): each good row becomes a referral, rows for an
incident already listed are linked to it, the same victim twice in a window is flagged for
the coordinator, and each bad row is reported by line with nothing of it stored (002,
"police feed cleansing")."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from ipaddress import ip_address
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.referrals import ReferralError, read_form, submit
from dialogs.safe_text import safe_text
from dialogs.scheduling import local_today
from storage.crypto import blind_index
from storage.database import Store
from storage.models import Marac, Referral, ReferralSource, ReferralStatus

COLUMNS = (
    "police_incident_ref", "incident_date", "received_on", "victim_first_name",
    "victim_reference", "victim_age_band", "children_in_household", "perpetrator_first_name",
    "referring_agency", "referrer_name", "area", "honour_based_violence", "dash_yes_count",
    "escalation", "escalation_detail", "professional_judgement", "rationale",
)
REQUIRED = COLUMNS[:13]
MAX_BYTES = 5 * 1024 * 1024
BATCH_SECONDS = 0.25
SQLITE_TURN_PAUSE = 0.12


class FeedError(ValueError):
    """The file as a whole cannot be read; str() is one plain sentence."""


@dataclass
class ImportReport:
    listed: list[tuple[int, Referral]] = field(default_factory=list)
    declined: list[tuple[int, Referral]] = field(default_factory=list)
    possible_duplicates: list[tuple[int, Referral]] = field(default_factory=list)
    linked: list[tuple[int, Referral]] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)

    @property
    def loaded(self) -> int:
        """Rows stored as new referrals, whatever their triage status."""
        return len(self.listed) + len(self.declined) + len(self.possible_duplicates)

    @property
    def rows(self) -> int:
        return sum(len(part) for part in (self.listed, self.declined, self.possible_duplicates,
                                          self.linked, self.refused))


def read_rows(content: bytes) -> list[tuple[int, dict[str, str]]]:
    """The CSV's data rows, each with its line number in the file."""
    if len(content) > MAX_BYTES:
        raise FeedError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FeedError("The file is not UTF-8 text; export it from the police system as "
                        "CSV (UTF-8).") from error
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise FeedError(f"The file has no column {missing[0]!r}; the first line must name "
                        f"the columns: {', '.join(COLUMNS)}.")
    rows = []
    first_line = reader.line_num + 1
    for row in reader:  # a quoted cell may span lines: a row is numbered by its first
        rows.append((first_line, {k: safe_text(v or "").strip() for k, v in row.items() if k}))
        first_line = reader.line_num + 1
    return rows


async def import_in_batches(store: Store, marac_id: int,
                            rows: list[tuple[int, dict[str, str]]], now: datetime,
                            progress: Callable[[int], None] = lambda _: None) -> ImportReport:
    """The rows in batches, each its own committed transaction of at most BATCH_SECONDS, so
    that a long file never holds SQLite's write lock (or PostgreSQL's row locks) for long:
    everyone else's turns run between batches. A file stopped half-way keeps the batches
    done; sent again, their rows are linked to the referrals already stored."""
    report = ImportReport()
    loop = asyncio.get_running_loop()
    done = 0
    while done < len(rows):
        async with store.unit_of_work() as session:
            marac = await session.get_one(Marac, marac_id)
            today = local_today(marac, now)
            began = loop.time()
            while done < len(rows) and loop.time() - began < BATCH_SECONDS:
                line, row = rows[done]
                await _import_row(session, marac, line, row, today, now, report)
                progress(1)
                done += 1
        if store.engine.dialect.name == "sqlite":
            # Longer than SQLite's longest wait between tries for its lock (100 ms), so a
            # turn waiting for it takes it before the next batch does.
            await asyncio.sleep(SQLITE_TURN_PAUSE)
    return report


async def import_rows(session: AsyncSession, marac: Marac, rows: list[tuple[int, dict[str, str]]],
                      now: datetime, progress: Callable[[int], None] = lambda _: None
                      ) -> ImportReport:
    report = ImportReport()
    today = local_today(marac, now)
    for line, row in rows:
        await _import_row(session, marac, line, row, today, now, report)
        progress(1)
    return report


async def _import_row(session: AsyncSession, marac: Marac, line: int, row: dict[str, str],
                      today: object, now: datetime, report: ImportReport) -> None:
    incident = row.get("police_incident_ref", "")
    if incident:
        listed = await session.scalar(select(Referral).where(
            Referral.marac_id == marac.id,
            Referral.police_incident_index == blind_index(incident)))
        if listed is not None:
            report.linked.append((line, listed))
            return
    savepoint = await session.begin_nested()
    try:
        form = read_form(row, today)  # type: ignore[arg-type]
        if not form.police_incident_ref:
            raise ReferralError("Please give the police incident reference.")
        submission = await submit(session, marac, form, None, now, ReferralSource.POLICE_FEED)
    except ReferralError as error:
        await savepoint.rollback()
        report.refused.append((line, str(error)))
        return
    await savepoint.commit()
    referral = submission.referral
    bucket = {ReferralStatus.DECLINED: report.declined,
              ReferralStatus.POSSIBLE_DUPLICATE: report.possible_duplicates}
    bucket.get(referral.status, report.listed).append((line, referral))


def download_refusal(url: str, development: bool, first_host: str | None = None) -> str | None:
    """Why the feed may not be fetched from this address (the download link Teams sent, or a
    redirect from it), in one sentence; None if it may. Only https on port 443; a redirect
    only to the same host; a loopback address only when developing (the Playground serves
    the file on one)."""
    try:
        parsed = urlsplit(url)
        port = parsed.port
    except ValueError:
        return "its download link is not a web address."
    host = parsed.hostname
    if first_host is not None and host != first_host:
        return "its download link redirects to another address."
    if _is_loopback(host):
        if development and parsed.scheme in ("http", "https"):
            return None
        return "its download link points at this machine."
    if parsed.scheme != "https" or not host:
        return "its download link is not a secure (https) address."
    if port not in (None, 443):
        return "its download link is not on the https port (443)."
    return None


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
