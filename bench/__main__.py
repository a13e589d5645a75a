"""`python -m bench [--quick]`: the benchmark of issue 7, in one run on this machine.

1. cost per activity: the MARAC bot against a stock botbuilder echo bot and a bare aiohttp
   echo, on the same activities (bench.cost);
2. meetings at once: N meetings pressing a button a second, on SQLite and on PostgreSQL with
   one and three replicas (bench.meetings);
3. timer precision: how late slot warnings arrive with many meetings running
   (bench.timer_precision);
4. memory: each replica's resident memory, idle and at its peak;
5. the report over a year of a busy MARAC (50 cases a week) on PostgreSQL (bench.report_year);
6. identical presses at once: one press sent 50 times at the same instant (bench.simultaneous).

Figures go to bench/results/<time>.json and bench/results/latest.json, and a short table
is printed. Every server runs as its own process, stopped at the end; every PostgreSQL
database made for the run is dropped, even when it fails.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import cost, meetings, profiles, report_year, servers, simultaneous, timer_precision
from bench.databases import POSTGRES_ADMIN, postgres_reachable
from bench.report import machine, table, write

PARTS = ("cost", "meetings", "timers", "report", "presses")
FULL = {"sizes": "10,50,200", "duration": 20.0, "activities": 300, "setups":
        "sqlite:1,postgresql:1,postgresql:3", "timer_setups": "sqlite:1,postgresql:3",
        "timer_meetings": 200, "slot": 40, "warning": 30, "window": 20.0,
        "press_setups": "sqlite,postgresql"}
QUICK = {"sizes": "10,50", "duration": 8.0, "activities": 60, "setups":
         "sqlite:1,postgresql:1,postgresql:3", "timer_setups": "postgresql:3",
         "timer_meetings": 50, "slot": 20, "warning": 14, "window": 8.0,
         "press_setups": "sqlite"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and short runs, for trying the benchmark out")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help="any of cost,meetings,timers,report,presses")
    parser.add_argument("--sizes", help="meetings at once (full: 10,50,200)")
    parser.add_argument("--duration", type=float, help="seconds of load per size (full: 20)")
    parser.add_argument("--activities", type=int, help="activities of each kind in part 1")
    parser.add_argument("--rounds", type=int, default=3,
                        help="part 1: shares of each kind, the servers taking turns in each, "
                        "their order alternating (default 3)")
    parser.add_argument("--setups", help="database:replicas for part 2")
    parser.add_argument("--timer-setups", help="database:replicas for part 3")
    parser.add_argument("--press-setups", help="databases for part 6 (full: sqlite,postgresql)")
    parser.add_argument("--timer-meetings", type=int, help="meetings running in part 3")
    parser.add_argument("--timer-seconds", type=float, default=0.5,
                        help="the replicas' TIMER_SECONDS in part 3 (default 0.5)")
    parser.add_argument("--press-rate", type=float, default=0.05,
                        help="button presses a second per meeting during part 3")
    parser.add_argument("--slot", type=int, help="slot seconds in part 3")
    parser.add_argument("--warning", type=int, help="warning seconds in part 3")
    parser.add_argument("--window", type=float, help="seconds the slots' ends are spread over")
    parser.add_argument("--log-level", default="WARNING", help="the bots' LOG_LEVEL")
    parser.add_argument("--postgres", default=POSTGRES_ADMIN,
                        help="an admin URL of the PostgreSQL server to make databases on")
    parser.add_argument("--out", type=Path, help="folder for the JSON (bench/results)")
    parser.add_argument("--profile", action="store_true",
                        help="run the bots under cProfile (slower!); a .prof file and its top "
                        "functions (.txt) per bot process in the logs folder")
    return parser


def _options(args: argparse.Namespace) -> dict[str, Any]:
    defaults = QUICK if args.quick else FULL
    return {key: getattr(args, key) if getattr(args, key) is not None else value
            for key, value in defaults.items()}


def _setups(text: str) -> list[tuple[str, int]]:
    pairs = [item.split(":") for item in text.split(",") if item]
    return [(kind, int(count)) for kind, count in pairs]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    options = _options(args)
    parts = set(args.parts.split(","))
    figures: dict[str, Any] = {"machine": machine(), "quick": args.quick,
                               "options": {**options, "timer_seconds": args.timer_seconds,
                                           "press_rate": args.press_rate,
                                           "log_level": args.log_level}, "skipped": []}
    postgres = await postgres_reachable(args.postgres)
    logs = Path(tempfile.mkdtemp(prefix="marac-bench-logs-"))
    figures["logs"] = str(logs)
    if args.profile:
        servers.PROFILE_TO.append(logs)
    connector = servers.connector()
    with servers.running([connector], logs):
        if "cost" in parts:
            print("Part 1: cost per activity", flush=True)
            figures["cost"] = await cost.run(connector, logs, options["activities"],
                                             args.log_level, postgres, args.rounds)
        if "meetings" in parts:
            await _meetings(figures, options, args, connector, logs, postgres)
        if "timers" in parts:
            await _timers(figures, options, args, connector, logs, postgres)
        if "presses" in parts:
            await _presses(figures, options, args, connector, logs, postgres)
    if "report" in parts and _usable("postgresql", postgres, figures, "report over a year"):
        print("Part 5: the report over a year", flush=True)
        figures["report"] = await report_year.run("postgresql", 50, 5, args.postgres)
    return figures


def _usable(kind: str, postgres: bool, figures: dict[str, Any], what: str) -> bool:
    if kind == "postgresql" and not postgres:
        figures["skipped"].append(f"{what}: PostgreSQL is not reachable")
        return False
    return True


async def _meetings(figures: dict[str, Any], options: dict[str, Any], args: argparse.Namespace,
                    connector: servers.Server, logs: Path, postgres: bool) -> None:
    print("Part 2: meetings at once", flush=True)
    sizes = [int(s) for s in options["sizes"].split(",")]
    figures["meetings"], figures["memory"] = [], []
    for kind, count in _setups(options["setups"]):
        if _usable(kind, postgres, figures, f"meetings on {kind} x{count}"):
            rows, memory = await meetings.one_setup(kind, count, sizes, options["duration"],
                                                    connector, logs, args.log_level)
            figures["meetings"] += rows
            figures["memory"].append(memory)


async def _timers(figures: dict[str, Any], options: dict[str, Any], args: argparse.Namespace,
                  connector: servers.Server, logs: Path, postgres: bool) -> None:
    print("Part 3: timer precision", flush=True)
    figures["timers"] = []
    settings = {"slot": options["slot"], "warning": options["warning"],
                "window": options["window"], "timer_seconds": args.timer_seconds,
                "press_rate": args.press_rate}
    for kind, count in _setups(options["timer_setups"]):
        if _usable(kind, postgres, figures, f"timers on {kind} x{count}"):
            result = await timer_precision.run(kind, count, options["timer_meetings"], settings,
                                               connector, logs, args.log_level)
            figures["timers"].append(result)
            print(f"  {kind} x{count}: p99 {result['late']['p99_ms']} ms late, "
                  f"{result['received']}/{result['expected']}", flush=True)


async def _presses(figures: dict[str, Any], options: dict[str, Any], args: argparse.Namespace,
                   connector: servers.Server, logs: Path, postgres: bool) -> None:
    print("Part 6: identical presses at once", flush=True)
    figures["presses"] = []
    for kind in options["press_setups"].split(","):
        if _usable(kind, postgres, figures, f"presses at once on {kind}"):
            result = await simultaneous.run(kind, connector, logs, args.log_level,
                                            args.postgres)
            figures["presses"].append(result)
            print(f"  {kind}: {result['presses']} at once, p99 {result['p99_ms']} ms, "
                  f"errors {result['errors']}, refused {result['refused']}, "
                  f"stored {result.get('stored')}", flush=True)


def render(figures: dict[str, Any], markdown: bool = False) -> str:
    out = []
    if "cost" in figures:
        out += ["", "Cost per activity (one at a time; CPU of the server process)",
                _cost_table(figures["cost"], markdown)]
    if figures.get("meetings"):
        out += ["", "Meetings at once (one button press a second each)",
                _meetings_table(figures["meetings"], markdown)]
    if figures.get("timers"):
        out += ["", "Timer precision (lateness of slot warnings)",
                _timers_table(figures["timers"], markdown)]
    if figures.get("memory"):
        out += ["", "Memory per replica (RSS)", _memory_table(figures["memory"], markdown)]
    if figures.get("report"):
        r = figures["report"]
        out += ["", "The report over a year (dialogs.report.build)", table(
            ["database", "cases a week", "cases heard", "first ms", "median ms", "max ms"],
            [[r["database"], r["per_week"], r["cases_heard"], r["first_ms"], r["median_ms"],
              r["max_ms"]]], markdown)]
    if figures.get("presses"):
        out += ["", "Identical presses at once (target p99 under 2 s)",
                _presses_table(figures["presses"], markdown)]
    out += [f"\nSkipped: {s}" for s in figures.get("skipped", [])]
    return "\n".join(out)


def _cost_table(cost_figures: dict[str, Any], markdown: bool) -> str:
    rows = []
    for kind, per_server in cost_figures["kinds"].items():
        ratios = cost_figures["ratios"][kind]
        for name, f in per_server.items():
            extra = ((ratios[name]["cpu_ms_vs_botbuilder"], ratios[name]["cpu_ms_vs_bare"])
                     if name in ratios else (None, None))
            rows.append([kind, name, f["cpu_ms"], f.get("db_cpu_ms"), f.get("statements"),
                         f["p50_ms"], f["p99_ms"], f["errors"] + f["refused"], *extra])
    return table(["activity", "server", "CPU ms", "+ db CPU ms", "statements", "p50 ms",
                  "p99 ms", "errors", "CPU x botbuilder", "CPU x bare"], rows, markdown)


def _meetings_table(rows: list[dict[str, Any]], markdown: bool) -> str:
    return table(["database", "replicas", "meetings", "presses", "p50 ms", "p99 ms", "max ms",
                  "errors", "refused", "CPU ms/press", "+ db CPU ms", "peak RSS MB"],
                 [[r["database"], r["replicas"], r["meetings"], r["sent"], r["p50_ms"],
                   r["p99_ms"], r["max_ms"], r["errors"], r["refused"], r["cpu_ms_per_press"],
                   r.get("db_cpu_ms_per_press"),
                   "/".join(str(m) for m in r["rss_peak_mb"])] for r in rows], markdown)


def _timers_table(rows: list[dict[str, Any]], markdown: bool) -> str:
    return table(["database", "replicas", "meetings", "timer s", "received", "duplicates",
                  "p50 ms late", "p99 ms late", "max ms late"],
                 [[r["database"], r["replicas"], r["meetings"], r["timer_seconds"],
                   f"{r['received']}/{r['expected']}", r["duplicates"], r["late"]["p50_ms"],
                   r["late"]["p99_ms"], r["late"]["max_ms"]] for r in rows], markdown)


def _presses_table(rows: list[dict[str, Any]], markdown: bool) -> str:
    return table(["database", "presses", "answered", "p50 ms", "p99 ms", "max ms", "errors",
                  "refused", "stored"],
                 [[r["database"], r["presses"], r["ok"], r["p50_ms"], r["p99_ms"], r["max_ms"],
                   r["errors"], r["refused"], r.get("stored")] for r in rows], markdown)


def _memory_table(rows: list[dict[str, Any]], markdown: bool) -> str:
    return table(["database", "replicas", "idle MB", "peak MB"],
                 [[r["database"], r["replicas"], "/".join(map(str, r["idle_mb"])),
                   "/".join(map(str, r["peak_mb"]))] for r in rows], markdown)


def _stop_on_sigterm() -> None:
    """A SIGTERM unwinds like Ctrl-C, so servers are stopped and databases dropped."""
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupt)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _stop_on_sigterm()
    began = time.monotonic()
    figures = asyncio.run(run(args))
    figures["seconds"] = round(time.monotonic() - began, 1)
    path = write(figures, args.out) if args.out else write(figures)
    if args.profile:
        figures["profiles"] = profiles.summarise(Path(figures["logs"]))
    print(render(figures))
    print(f"\nFigures written to {path} (and latest.json beside it) in {figures['seconds']} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
