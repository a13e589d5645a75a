"""The `marac` console command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import ConfigurationError, Settings
from bot.ops.telemetry import configure_logging
from dialogs.clock import (
    advance_clock,
    freeze_clock,
    parse_duration,
    read_clock,
    set_clock,
)
from dialogs.demo import seed_demo
from storage.database import Store
from storage.migrate import is_current, upgrade

T = TypeVar("T")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        settings = Settings.from_env()
        configure_logging(settings.log_level, settings.log_format == "json")
        return int(args.run(args, settings) or 0)
    except (ConfigurationError, ValueError, OSError) as error:  # PeopleError too
        print(f"marac: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="marac",
        description="The MARAC bot for Microsoft Teams. Configuration comes from the "
        "environment: MicrosoftAppId, MicrosoftAppPassword, MicrosoftAppTenantId, "
        "MicrosoftAppType, DATABASE_URL, HOST, PORT, LOG_LEVEL.",
    )
    sub = parser.add_subparsers(title="commands")

    serve = sub.add_parser("serve", help="run the bot's web server (POST /api/messages)",
                           description="Run the bot: POST /api/messages; GET /livez, /readyz "
                           "and /healthz.")
    _host_port(serve)
    serve.set_defaults(run=_serve)

    db = sub.add_parser("db", help="manage the database schema",
                        description="Manage the database schema with Alembic migrations.")
    db_sub = db.add_subparsers(title="commands")
    db_upgrade = db_sub.add_parser("upgrade", help="apply every pending migration",
                                   description="Bring DATABASE_URL's schema up to date.")
    db_upgrade.set_defaults(run=_db_upgrade)
    db_current = db_sub.add_parser("current", help="show the schema's revision",
                                   description="Show DATABASE_URL's schema revision and the "
                                   "one this version of the bot expects.")
    db_current.set_defaults(run=_db_current)
    db_downgrade = db_sub.add_parser(
        "downgrade", help="undo migrations down to a revision",
        description="Undo migrations down to REVISION (e.g. 0003, or -1 for the last one), "
        "to roll back to an older version of the bot. Back the database up first.")
    db_downgrade.add_argument("revision", help="the revision to go back to, or -1")
    db_downgrade.set_defaults(run=_db_downgrade)
    db_keys = db_sub.add_parser(
        "check-keys", help="check that the configured keys decrypt every stored value",
        description="Decrypt every encrypted value with MARAC_ENCRYPTION_KEYS and say how many "
        "open; run it after a restore or a key rotation.")
    db_keys.set_defaults(run=_db_check_keys)

    demo = sub.add_parser("demo", help="seed the demo Riverside MARAC",
                          description="Create the schema if needed and seed a demo MARAC: "
                          "its agencies, people in every role, and a meeting with cases. "
                          "Running it twice changes nothing.")
    _slot_options(demo)
    demo.set_defaults(run=_demo)

    dev = sub.add_parser("dev", help="run the bot on demo data with the Teams Playground",
                         description="Seed the demo data, start the bot and Microsoft's "
                         "Agents Playground with the Riverside MARAC team, and print the "
                         "address to open. Ctrl-C stops both.")
    _host_port(dev)
    _slot_options(dev)
    dev.add_argument("--playground-port", type=int, default=56150,
                     help="port for the Playground's web page (default 56150)")
    dev.set_defaults(run=_dev)

    feed = sub.add_parser("import-referrals", help="import a police feed CSV as referrals",
                          description="Import the police feed: each good row becomes a "
                          "referral, rows for an incident already listed are linked, the same "
                          "victim twice in a window is flagged for triage, and bad rows are "
                          "reported by line with nothing of them stored.")
    feed.add_argument("file", type=Path, help="the CSV export")
    feed.add_argument("--marac", help="the MARAC's name (needed when there are several)")
    feed.set_defaults(run=_import_referrals)

    person = sub.add_parser("add-person", help="give someone a role (the first coordinator)",
                            description="Add a person by their Azure AD identity and give them "
                            "a role in a MARAC; afterwards the coordinator manages roles in "
                            "Teams with people, grant and revoke.")
    person.add_argument("--marac", required=True, help="the MARAC's name")
    person.add_argument("--tenant", required=True, help="their Azure AD tenant id")
    person.add_argument("--aad-object-id", required=True, help="their Azure AD object id")
    person.add_argument("--first-name", required=True)
    person.add_argument("--role", required=True, help="coordinator, chair, ...")
    person.add_argument("--agency", help="the agency they represent, if any")
    person.set_defaults(run=_add_person)

    mailbox = sub.add_parser("mailbox", help="set an agency's secure mailbox for plans",
                             description="Set the secure mailbox an agency's plans are also "
                             "emailed to (through Microsoft Graph); an empty address removes "
                             "it.")
    mailbox.add_argument("--marac", required=True, help="the MARAC's name")
    mailbox.add_argument("--agency", required=True, help="the agency's name")
    mailbox.add_argument("address", help="the mailbox, e.g. marac@agency.gov.uk, or ''")
    mailbox.set_defaults(run=_mailbox)

    export = sub.add_parser("plan-export", help="write a case's current plan as a Word file",
                            description="Write the current version of a case's action plan "
                            "as a Word document (OFFICIAL-SENSITIVE), as the coordinator gets "
                            "it with `plan CASE export` in Teams.")
    export.add_argument("case", help="the case number, e.g. RIV-2026-001")
    export.add_argument("--marac", required=True, help="the MARAC's name")
    export.add_argument("--out", type=Path, help="where to write it (default: its own name)")
    export.set_defaults(run=_plan_export)

    report = sub.add_parser("report", help="write the MARAC's figures for a period",
                            description="Write a MARAC's figures for a period: the SafeLives "
                            "data return (csv) or the steering group's report (docx, "
                            "OFFICIAL-SENSITIVE). Without dates, the last whole quarter.")
    report.add_argument("--marac", required=True, help="the MARAC's name")
    report.add_argument("--from", dest="first", help="the first day, e.g. 2026-07-01")
    report.add_argument("--to", dest="last", help="the last day, e.g. 2026-09-30")
    report.add_argument("--format", choices=("csv", "docx"), default="docx")
    report.add_argument("--out", type=Path, help="where to write it (default: its own name)")
    report.set_defaults(run=_report)

    population = sub.add_parser("population", help="set a MARAC's adult population",
                                description="Set the number of adults (16+) in the MARAC's "
                                "area, which the report gives cases heard per 10,000 of; 0 "
                                "removes it.")
    population.add_argument("--marac", required=True, help="the MARAC's name")
    population.add_argument("adults", type=int, help="e.g. 250000")
    population.set_defaults(run=_population)

    rotate = sub.add_parser("rotate-keys", help="re-encrypt stored data with the first key",
                            description="Re-encrypt every encrypted value with the first key "
                            "of MARAC_ENCRYPTION_KEYS; afterwards the older keys can be "
                            "removed from it.")
    rotate.set_defaults(run=_rotate_keys)

    clock = sub.add_parser("clock", help="set or move the clock of a bot under test or demo",
                           description="Set, move, stop or show the clock that the bot, its "
                           "replicas and `marac demo` read from MARAC_CLOCK_FILE (refused "
                           "with an app id: production runs on the system clock).")
    clock.add_argument("what", choices=("show", "set", "advance", "freeze", "run"),
                       help="show it; set it to an instant; advance it by a duration; freeze "
                       "it where it is; run it on from where it stands")
    clock.add_argument("value", nargs="?", default="",
                       help="for set: an instant like 2026-12-02T09:30:00+00:00; for advance: "
                       "a duration like 36h, 2d or 90s")
    clock.add_argument("--frozen", action="store_true", help="with set: time stands still")
    clock.set_defaults(run=_clock)

    package = sub.add_parser("package", help="build the Teams app package (zip)",
                             description="Build the Teams app package to side-load into Teams.")
    package.add_argument("--app-id", required=True, help="the bot's Azure app (client) id")
    package.add_argument("--public-url", default="",
                         help="the bot's https address (PUBLIC_URL), for in-meeting notifications")
    package.add_argument("--out", type=Path, default=Path("marac-teams-app.zip"),
                         help="where to write the zip (default marac-teams-app.zip)")
    package.set_defaults(run=_package)
    return parser


def _slot_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--slot-seconds", type=int, default=20 * 60,
                        help="each case's slot (default 1200: 20 minutes)")
    parser.add_argument("--warning-seconds", type=int, default=5 * 60,
                        help="warn when this much of a slot remains (default 300)")


def _host_port(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to listen on (default HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default PORT or 3978)")


def _listen(args: argparse.Namespace, settings: Settings) -> tuple[str, int]:
    return args.host or settings.host, args.port or settings.port


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    if not asyncio.run(is_current(settings.database_url)):
        print("marac: the database schema is not up to date; run `marac db upgrade` first.",
              file=sys.stderr)
        return 2
    refused = asyncio.run(_cannot_write(settings.database_url))
    if refused:
        print(f"marac: the database cannot be written ({refused}); check its file or disk, "
              "then start again.", file=sys.stderr)
        return 2
    from bot.ops import telemetry
    from bot.teams.app import create_app

    logging.getLogger(__name__).info("telemetry: %s", telemetry.setup(os.environ))
    host, port = _listen(args, settings)
    web.run_app(create_app(settings), host=host, port=port,
                print=lambda _: print(f"MARAC bot listening on http://{host}:{port}/api/messages"))
    return 0


async def _cannot_write(url: str) -> str | None:
    store = Store.from_url(url)
    try:
        return await store.cannot_write()
    finally:
        await store.close()


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    upgrade(settings.database_url)
    print("The database schema is up to date.")
    return 0


def _db_current(args: argparse.Namespace, settings: Settings) -> int:
    from storage.migrate import current, head

    at = asyncio.run(current(settings.database_url))
    print(f"The database is at {', '.join(at) or 'no revision (empty)'}; "
          f"this version of the bot expects {head()}.")
    return 0 if ", ".join(at) == head() else 1


def _db_downgrade(args: argparse.Namespace, settings: Settings) -> int:
    from alembic.util import CommandError

    from storage.migrate import current, downgrade

    try:
        downgrade(settings.database_url, args.revision)
    except CommandError as error:
        print(f"marac: cannot downgrade to {args.revision!r}: {error}.", file=sys.stderr)
        return 2
    at = asyncio.run(current(settings.database_url))
    print(f"The database is now at {', '.join(at) or 'no revision (empty)'}.")
    return 0


def _db_check_keys(args: argparse.Namespace, settings: Settings) -> int:
    from storage.rotation import check_keys

    opened, refused = _in_store(settings.database_url, check_keys)
    if refused:
        print(f"marac: {refused} of {opened + refused} stored values cannot be decrypted with "
              "the configured keys.", file=sys.stderr)
        return 1
    print(f"The configured keys decrypt all {opened} stored values.")
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    upgrade(settings.database_url)
    seeded = _seed(settings, args.slot_seconds, args.warning_seconds)
    print("Seeded the demo Riverside MARAC." if seeded
          else "The demo Riverside MARAC is already there; nothing changed.")
    return 0


def _in_store(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run one unit of work for a console command, and close the store after it."""
    async def run() -> T:
        store = Store.from_url(url)
        try:
            async with store.unit_of_work() as session:
                return await work(session)
        finally:
            await store.close()

    return asyncio.run(run())


def _seed(settings: Settings, slot_seconds: int, warning_seconds: int) -> bool:
    if not 0 < warning_seconds < slot_seconds:
        raise ValueError("--warning-seconds must be more than 0 and less than --slot-seconds.")
    now = settings.clock().now()
    return _in_store(settings.database_url, lambda session: seed_demo(
        session, now, slot_seconds, warning_seconds))


def _clock(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.clock_file:
        raise ValueError("Set MARAC_CLOCK_FILE to the clock file that the bot reads.")
    path = Path(settings.clock_file)
    if args.what == "set":
        setting = set_clock(path, datetime.fromisoformat(args.value), args.frozen)
    elif args.what == "advance":
        setting = advance_clock(path, parse_duration(args.value))
    elif args.what in ("freeze", "run"):
        setting = freeze_clock(path, args.what == "freeze")
    else:
        setting = read_clock(path)
    state = "standing still" if setting.frozen else "running"
    print(f"The clock reads {setting.now().isoformat(timespec='seconds')}, {state}.")
    return 0


def _dev(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ops.dev import run_dev

    _demo(args, settings)
    host, port = _listen(args, settings)
    return asyncio.run(run_dev(settings, host, port, args.playground_port))


def _import_referrals(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ops.feed_import import import_file, read_file

    rows = read_file(args.file)
    report_text, refused = asyncio.run(import_file(settings.database_url, rows, args.marac,
                                                          settings.clock()))
    print(report_text)
    return 1 if refused else 0


def _add_person(args: argparse.Namespace, settings: Settings) -> int:
    from dialogs.people import add_person

    print(_in_store(settings.database_url, lambda session: add_person(
        session, args.marac, args.tenant, args.aad_object_id, args.first_name, args.role,
        args.agency)))
    return 0


def _mailbox(args: argparse.Namespace, settings: Settings) -> int:
    from dialogs.dissemination import set_mailbox

    print(_in_store(settings.database_url, lambda session: set_mailbox(
        session, args.marac, args.agency, args.address)))
    return 0


def _plan_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.features.plan_export import export_file
    from dialogs.plans import PlanError

    return _write_export(settings, lambda store: export_file(store, args.marac, args.case),
                         PlanError, args.out, "the plan")


def _report(args: argparse.Namespace, settings: Settings) -> int:
    from bot.features.report_export import export_file
    from dialogs.report import ReportError

    if (args.first is None) != (args.last is None):
        raise ValueError("Give both --from and --to, or neither for the last whole quarter.")
    period = " ".join(filter(None, (args.first, args.last)))
    now = settings.clock().now()
    return _write_export(
        settings, lambda store: export_file(store, args.marac, period, args.format, now),
        ReportError, args.out, "the report")


def _write_export(settings: Settings,
                  fetch: Callable[[Store], Coroutine[Any, Any, tuple[str, bytes]]],
                  refusal: type[Exception], out: Path | None, what: str) -> int:
    """An export to a file: the store opened and closed, a refusal said in one sentence."""
    async def export() -> tuple[str, bytes]:
        store = Store.from_url(settings.database_url)
        try:
            return await fetch(store)
        finally:
            await store.close()

    try:
        name, content = asyncio.run(export())
    except refusal as refused:
        print(f"marac: {refused}", file=sys.stderr)
        return 1
    target = out or Path(name)
    target.write_bytes(content)
    print(f"Wrote {what} to {target}.")
    return 0


def _population(args: argparse.Namespace, settings: Settings) -> int:
    from dialogs.report import set_population

    print(_in_store(settings.database_url, lambda session: set_population(
        session, args.marac, args.adults)))
    return 0


def _rotate_keys(args: argparse.Namespace, settings: Settings) -> int:
    from storage.rotation import rotate_all

    rotated = _in_store(settings.database_url, rotate_all)
    print(f"Re-encrypted {rotated} values with the first key.")
    return 0


def _package(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ops.teams_package import build_package

    path = build_package(args.app_id, args.out, args.public_url or settings.public_url)
    print(f"Wrote the Teams app package to {path}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
