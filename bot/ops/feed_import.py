"""`marac import-referrals FILE.csv`: the police feed from the terminal, with a progress bar."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from tqdm import tqdm

from cards.import_report import import_report_text
from dialogs.clock import Clock
from dialogs.police_feed import FeedError, import_in_batches, read_rows
from storage.database import Store
from storage.models import Marac


def read_file(path: Path) -> list[tuple[int, dict[str, str]]]:
    try:
        return read_rows(path.read_bytes())
    except FileNotFoundError as error:
        raise ValueError(f"There is no file {path}.") from error
    except FeedError as error:
        raise ValueError(str(error)) from error


async def import_file(url: str, rows: list[tuple[int, dict[str, str]]], marac_name: str | None,
                      clock: Clock) -> tuple[str, bool]:
    """The report to print, and whether any row was refused."""
    store = Store.from_url(url)
    try:
        async with store.unit_of_work() as session:
            marac = await _marac(session, marac_name)
        with tqdm(total=len(rows), unit="row", disable=len(rows) < 200) as bar:
            report = await import_in_batches(store, marac.id, rows, clock.now(), bar.update)
    finally:
        await store.close()
    return import_report_text(report), bool(report.refused)


async def _marac(session: AsyncSession, name: str | None) -> Marac:
    maracs = (await session.scalars(select(Marac).order_by(Marac.id))).all()
    chosen = [m for m in maracs if name is None or m.name == name]
    if len(chosen) == 1:
        return chosen[0]
    if not maracs:
        raise ValueError("There is no MARAC yet; run `marac demo` or set one up first.")
    names = ", ".join(m.name for m in maracs)
    if name is None:
        raise ValueError(f"Say which MARAC with --marac: {names}.")
    raise ValueError(f"There is no MARAC called {name!r}; there is {names}.")
