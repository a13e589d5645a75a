"""The Microsoft 365 Agents Toolkit's copy of the Teams manifest (infra/azure/appPackage/):
the same manifest as infra/teams/, with the toolkit's placeholders where `marac package`
puts the real values: ${{TEAMS_APP_ID}}, ${{BOT_ID}} and ${{BOT_DOMAIN}}, which the toolkit
fills from the env/ file and the Bicep outputs. `python -m bot.ops.toolkit_manifest` writes it
again after the manifest changes (tests/unit/test_toolkit.py says when it must)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from bot.ops.teams_package import ICONS, TAB_PLACEHOLDER, TEAMS_DIR

APP_PACKAGE = TEAMS_DIR.parent / "azure" / "appPackage"


def toolkit_manifest() -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((TEAMS_DIR / "manifest.json").read_text("utf-8"))
    manifest["id"] = "${{TEAMS_APP_ID}}"
    manifest["bots"][0]["botId"] = "${{BOT_ID}}"
    # Resource-specific consent is granted to the bot's Azure AD app.
    # The desk's SSO resource is on the tabs' domain, as Teams requires.
    manifest["webApplicationInfo"] = {"id": "${{BOT_ID}}",
                                      "resource": "api://${{BOT_DOMAIN}}/botid-${{BOT_ID}}"}
    manifest["validDomains"] = ["${{BOT_DOMAIN}}"]
    return json.loads(json.dumps(manifest).replace(TAB_PLACEHOLDER, "https://${{BOT_DOMAIN}}"))


def write(folder: Path = APP_PACKAGE) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(toolkit_manifest(), indent=2, ensure_ascii=False) + "\n"
    (folder / "manifest.json").write_text(text, encoding="utf-8")
    for icon in ICONS:
        shutil.copyfile(TEAMS_DIR / icon, folder / icon)


if __name__ == "__main__":
    write()
