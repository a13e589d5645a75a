"""The Agents Toolkit's manifest (infra/azure/appPackage/) is the Teams manifest with the
toolkit's placeholders, kept in step with infra/teams/; the toolkit's files name only
variables that the env/ templates or the Bicep outputs provide."""

from __future__ import annotations

import json
import re

from bot.ops.teams_package import ICONS, TEAMS_DIR
from bot.ops.toolkit_manifest import APP_PACKAGE, toolkit_manifest

AZURE = APP_PACKAGE.parent
PLACEHOLDER = re.compile(r"\$\{\{([A-Z_0-9]+)\}\}")
# The toolkit's own (teamsApp/create, the chosen environment, the signed-in subscription).
BUILT_IN = {"TEAMSFX_ENV", "TEAMS_APP_ID", "AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP_NAME"}


def test_the_toolkit_manifest_is_the_teams_manifest_with_placeholders() -> None:
    committed = json.loads((APP_PACKAGE / "manifest.json").read_text("utf-8"))
    assert committed == toolkit_manifest(), "run `python -m bot.ops.toolkit_manifest`"
    assert committed["bots"][0]["botId"] == "${{BOT_ID}}"
    assert committed["validDomains"] == ["${{BOT_DOMAIN}}"]
    for icon in ICONS:
        assert (APP_PACKAGE / icon).read_bytes() == (TEAMS_DIR / icon).read_bytes(), icon


def bicep_outputs() -> set[str]:
    text = (AZURE / "main.bicep").read_text("utf-8")
    names = re.findall(r"^output (\w+) ", text, re.MULTILINE)
    return {re.sub(r"(?<!^)([A-Z])", r"_\1", name).upper() for name in names}


def env_names(environment: str) -> set[str]:
    lines = (AZURE / "env" / f".env.{environment}").read_text("utf-8").splitlines()
    return {line.split("=", 1)[0] for line in lines if "=" in line and not line.startswith("#")}


def test_every_placeholder_has_a_source_in_each_environment() -> None:
    used = set()
    for path in (AZURE / "m365agents.yml", AZURE / "main.parameters.json",
                 APP_PACKAGE / "manifest.json"):
        used |= set(PLACEHOLDER.findall(path.read_text("utf-8")))
    assert {"BOT_ID", "BOT_DOMAIN"} <= bicep_outputs()
    for environment in ("dev", "prod"):
        missing = used - env_names(environment) - bicep_outputs() - BUILT_IN
        assert not missing, (environment, missing)


def test_the_env_templates_hold_no_secret() -> None:
    for environment in ("dev", "prod"):
        text = (AZURE / "env" / f".env.{environment}").read_text("utf-8")
        assert not re.search(r"(?i)(secret|password|key)\w*=\S", text), environment
