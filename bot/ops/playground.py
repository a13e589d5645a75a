"""Microsoft 365 Agents Playground, Microsoft's offline Teams emulator, run beside the bot
for `marac dev` and for the end-to-end tests (../shared/PLAYGROUND.md)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import IO

REPOSITORY = Path(__file__).resolve().parents[2]
PLAYGROUND_BIN = REPOSITORY / "node_modules" / ".bin" / "agentsplayground"
MARAC_TEAM_CONFIG = REPOSITORY / "infra" / "playground" / "marac.yml"
# The demo's second MARAC, seen from its coordinator's seat (transfers between MARACs).
WESTBROOK_TEAM_CONFIG = REPOSITORY / "infra" / "playground" / "westbrook.yml"
DEFAULT_PORT = 56150


class PlaygroundMissing(RuntimeError):
    pass


def start_playground(bot_endpoint: str, port: int = DEFAULT_PORT,
                     config: Path = MARAC_TEAM_CONFIG,
                     log: IO[bytes] | None = None,
                     log_file: Path = Path("/tmp/m365agentsplayground.log"),
                     ) -> subprocess.Popen[bytes]:
    if not PLAYGROUND_BIN.exists():
        raise PlaygroundMissing("The Agents Playground is not installed; run `npm ci` first.")
    env = {
        **os.environ,
        "TEAMSAPPTESTER_BROWSER": "none",  # no desktop: without it the tool exits at once
        "M365_AGENTS_PLAYGROUND_CONFIG_PATH": str(config),
        "M365_AGENTS_PLAYGROUND_LOGFILE": str(log_file),
    }
    return subprocess.Popen(
        [str(PLAYGROUND_BIN), "-e", bot_endpoint, "-c", "msteams", "--dt", "-p", str(port)],
        env=env, cwd=REPOSITORY, stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
