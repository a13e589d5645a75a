"""The `marac` console command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import ConfigurationError, Settings
from dialogs.clock import SystemClock
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
        logging.basicConfig(level=settings.log_level,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
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
                           description="Run the bot: POST /api/messages and GET /healthz.")
    _host_port(serve)
    serve.set_defaults(run=_serve)

    db = sub.add_parser("db", help="manage the database schema",
                        description="Manage the database schema with Alembic migrations.")
    db_sub = db.add_subparsers(title="commands")
    db_upgrade = db_sub.add_parser("upgrade", help="apply every pending migration",
                                   description="Bring DATABASE_URL's schema up to date.")
    db_upgrade.set_defaults(run=_db_upgrade)

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

    rotate = sub.add_parser("rotate-keys", help="re-encrypt stored data with the first key",
                            description="Re-encrypt every encrypted value with the first key "
                            "of MARAC_ENCRYPTION_KEYS; afterwards the older keys can be "
                            "removed from it.")
    rotate.set_defaults(run=_rotate_keys)

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
    from bot.teams.app import create_app

    host, port = _listen(args, settings)
    web.run_app(create_app(settings), host=host, port=port,
                print=lambda _: print(f"MARAC bot listening on http://{host}:{port}/api/messages"))
    return 0


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    upgrade(settings.database_url)
    print("The database schema is up to date.")
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    upgrade(settings.database_url)
    seeded = _seed(settings.database_url, args.slot_seconds, args.warning_seconds)
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


def _seed(url: str, slot_seconds: int, warning_seconds: int) -> bool:
    if not 0 < warning_seconds < slot_seconds:
        raise ValueError("--warning-seconds must be more than 0 and less than --slot-seconds.")
    return _in_store(url, lambda session: seed_demo(session, SystemClock().now(), slot_seconds,
                                                    warning_seconds))


def _dev(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ops.dev import run_dev

    _demo(args, settings)
    host, port = _listen(args, settings)
    return asyncio.run(run_dev(settings, host, port, args.playground_port))


def _import_referrals(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ops.feed_import import import_file, read_file

    rows = read_file(args.file)
    report_text, refused = asyncio.run(import_file(settings.database_url, rows, args.marac))
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

    async def export() -> tuple[str, bytes]:
        store = Store.from_url(settings.database_url)
        try:
            return await export_file(store, args.marac, args.case)
        finally:
            await store.close()

    try:
        name, document = asyncio.run(export())
    except PlanError as refused:
        print(f"marac: {refused}", file=sys.stderr)
        return 1
    out = args.out or Path(name)
    out.write_bytes(document)
    print(f"Wrote the plan to {out}.")
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
