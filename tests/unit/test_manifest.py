"""The Teams app manifest is valid by Microsoft's schema and lists exactly the bot's commands."""

from __future__ import annotations

import json
import re
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import regex
from botbuilder.core.teams import TeamsActivityHandler
from jsonschema import Draft6Validator, FormatChecker, ValidationError, validators
from jsonschema.protocols import Validator
from referencing import Registry

from bot.ops.teams_package import MEETING_PERMISSIONS, PLACEHOLDER_ID, TEAMS_DIR, build_package
from bot.teams.handler import MaracBot
from bot.turns.registry import Place, commands

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "node_modules" / "@microsoft" / "app-manifest" / "build" / "json-schemas" / "teams"
APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
ICON_SIZES = {"color.png": 192, "outline.png": 32}


def load_manifest() -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((TEAMS_DIR / "manifest.json").read_text("utf-8"))
    return manifest


def validator_for(manifest: dict[str, Any]) -> Validator:
    """A validator for the official schema of the manifest version the manifest declares."""
    version = manifest["manifestVersion"]
    path = SCHEMAS / f"v{version}" / "MicrosoftTeams.schema.json"
    if not SCHEMAS.is_dir():
        pytest.fail(f"{SCHEMAS} is missing: run `npm ci` in {ROOT} to install the Teams schemas.")
    if not path.is_file():
        pytest.fail(f"@microsoft/app-manifest has no schema for manifest version {version}.")
    schema = json.loads(path.read_text("utf-8"))
    base = validators.validator_for(schema)
    # Newer schemas write patterns in ECMAScript's syntax (\p{L}), which the `regex` module
    # reads and Python's `re` does not.
    formats = FormatChecker()
    formats.checks("regex", raises=regex.error)(regex.compile)
    base.check_schema(schema, format_checker=formats)
    # The schemas declare draft-04 but pin manifestVersion with draft-06 `const`, which a plain
    # draft-04 validator would silently ignore; borrow draft-06's `const` so it is enforced.
    cls = validators.extend(base, {"const": Draft6Validator.VALIDATORS["const"],
                                   "pattern": _pattern})
    # An empty registry: any remote $ref fails loudly instead of being fetched.
    return cls(schema, registry=Registry())


def _pattern(validator: Validator, pattern: str, instance: Any, schema: dict[str, Any]
             ) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not regex.search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def assert_valid(manifest: dict[str, Any]) -> None:
    errors = sorted(validator_for(manifest).iter_errors(manifest), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def png_size(data: bytes) -> tuple[int, int, int]:
    """Width, height and colour type from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "not a PNG"
    width, height, _depth, colour_type = struct.unpack(">IIBB", data[16:26])
    return width, height, colour_type


def test_manifest_validates_against_the_official_schema() -> None:
    manifest = load_manifest()
    version = manifest["manifestVersion"]
    assert manifest["$schema"].endswith(f"/v{version}/MicrosoftTeams.schema.json")
    assert_valid(manifest)


def test_the_schema_check_catches_a_broken_manifest() -> None:
    manifest = load_manifest()
    manifest["bots"][0]["botId"] = "not-a-guid"
    with pytest.raises(AssertionError, match="botId"):
        assert_valid(manifest)


SCOPE_PLACE = {"team": Place.CHANNEL, "groupChat": Place.GROUP_CHAT, "personal": Place.PERSONAL}


def test_each_scope_lists_exactly_the_commands_usable_there() -> None:
    bot = load_manifest()["bots"][0]
    scopes = [scope for command_list in bot["commandLists"] for scope in command_list["scopes"]]
    assert sorted(scopes) == sorted(bot["scopes"])
    for command_list in bot["commandLists"]:
        (scope,) = command_list["scopes"]
        usable = [c for c in commands() if c.menu and SCOPE_PLACE[scope] in c.places]
        listed = [(c["title"], c["description"]) for c in command_list["commands"]]
        assert listed == [(c.menu_title, c.summary) for c in usable], scope
        assert len(listed) <= 10, "Teams shows at most 10 commands per scope"


def test_the_template_carries_the_placeholder_id() -> None:
    manifest = load_manifest()
    assert manifest["id"] == manifest["bots"][0]["botId"] == PLACEHOLDER_ID
    assert manifest["webApplicationInfo"]["id"] == PLACEHOLDER_ID


def test_the_manifest_is_at_the_newest_version_the_schemas_ship() -> None:
    shipped = [p.name[1:] for p in SCHEMAS.iterdir() if re.fullmatch(r"v[0-9.]+", p.name)]
    newest = max(shipped, key=lambda v: tuple(int(n) for n in v.split(".")))
    assert load_manifest()["manifestVersion"] == newest


def test_the_manifest_grants_every_permission_the_meeting_features_need() -> None:
    """Teams sends meeting and participant events, and takes targeted notifications, only
    from an app whose manifest asks for them (resource-specific consent)."""
    manifest = load_manifest()
    assert manifest["webApplicationInfo"]["id"] == manifest["id"]
    declared = {(p["name"], p["type"])
                for p in manifest["authorization"]["permissions"]["resourceSpecific"]}
    needed = {(name, "Application") for names in MEETING_PERMISSIONS.values() for name in names}
    assert needed <= declared, f"missing: {sorted(needed - declared)}"
    handled = [name for name in vars(TeamsActivityHandler) if name.startswith("on_teams_meeting")
               and getattr(MaracBot, name) is not getattr(TeamsActivityHandler, name)]
    assert handled and set(handled) <= set(MEETING_PERMISSIONS), handled


def test_build_package_sets_the_app_id(tmp_path: Path) -> None:
    out = build_package(APP_ID, tmp_path / "dist" / "marac.zip")
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        icons = {name: package.read(name) for name in ICON_SIZES}
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == APP_ID
    assert manifest["webApplicationInfo"] == {"id": APP_ID, "resource": f"api://botid-{APP_ID}"}
    assert_valid(manifest)
    for name, side in ICON_SIZES.items():
        width, height, colour_type = png_size(icons[name])
        assert (width, height) == (side, side), name
        if name == "outline.png":
            assert colour_type in (4, 6), "the outline icon needs a transparent background"
    assert PLACEHOLDER_ID not in json.dumps(manifest)
    assert manifest["validDomains"] == []


def test_the_public_address_is_a_valid_domain_for_the_in_meeting_page(tmp_path: Path) -> None:
    out = build_package(APP_ID, tmp_path / "marac.zip", "https://marac.example.gov.uk")
    with zipfile.ZipFile(out) as package:
        manifest = json.loads(package.read("manifest.json"))
    assert manifest["validDomains"] == ["marac.example.gov.uk"]
    assert manifest["webApplicationInfo"]["resource"] == (
        f"api://marac.example.gov.uk/botid-{APP_ID}")
    [desk, _] = manifest["staticTabs"]
    assert desk["contentUrl"] == "https://marac.example.gov.uk/desk/"
    [panel] = manifest["configurableTabs"]
    assert panel["configurationUrl"] == "https://marac.example.gov.uk/desk/configure"
    assert "meetingSidePanel" in panel["context"]
    assert "marac.example.org" not in json.dumps(manifest)
    assert_valid(manifest)


def test_without_a_public_address_the_package_has_no_tabs(tmp_path: Path) -> None:
    out = build_package(APP_ID, tmp_path / "marac.zip")
    with zipfile.ZipFile(out) as package:
        manifest = json.loads(package.read("manifest.json"))
    assert manifest["staticTabs"] == [{"entityId": "conversations", "scopes": ["personal"]}]
    assert "configurableTabs" not in manifest


@pytest.mark.parametrize(
    "app_id", ["", "marac", f"{{{APP_ID}}}", APP_ID[:-1], APP_ID + "0", APP_ID.replace("-", "")]
)
def test_build_package_refuses_a_non_guid(tmp_path: Path, app_id: str) -> None:
    out = tmp_path / "marac.zip"
    with pytest.raises(ValueError, match="not a GUID"):
        build_package(app_id, out)
    assert not out.exists()
