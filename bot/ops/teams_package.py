"""Build the Teams app package: the manifest with the real app id, and the two icons, zipped."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

TEAMS_DIR = Path(__file__).resolve().parents[2] / "infra" / "teams"
PLACEHOLDER_ID = "00000000-0000-0000-0000-00000000000b"
ICONS = ("color.png", "outline.png")
# What Teams must grant the app in a meeting's chat or team (resource-specific consent) for
# each meeting feature: without them Teams sends no meeting events and refuses the
# notification. Keyed by the handler method (or client call) that relies on them.
MEETING_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "on_teams_meeting_start_event": ("OnlineMeeting.ReadBasic.Chat",
                                     "ChannelMeeting.ReadBasic.Group"),
    "on_teams_meeting_end_event": ("OnlineMeeting.ReadBasic.Chat",
                                   "ChannelMeeting.ReadBasic.Group"),
    "on_teams_meeting_participants_join_event": ("OnlineMeetingParticipant.Read.Chat",
                                                 "ChannelMeetingParticipant.Read.Group"),
    "send_meeting_notification": ("OnlineMeetingNotification.Send.Chat",
                                  "ChannelMeetingNotification.Send.Group"),
}
# The desk's and the meeting panel's address in the template, replaced by the bot's own.
TAB_PLACEHOLDER = "https://marac.example.org"
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def build_package(app_id: str, out_path: Path, public_url: str = "") -> Path:
    """Write the app package to `out_path`, with `app_id` as both the app id and the bot id.
    The bot's public address, if given, is a valid domain (the in-meeting notification page)
    and serves the desk (a personal tab) and the meeting's side panel, whose SSO resource is
    on that domain, as Teams requires; without it, the package has no tabs."""
    if not _GUID.fullmatch(app_id):
        raise ValueError(
            f"The app id {app_id!r} is not a GUID like 12345678-abcd-4ef0-9876-0123456789ab."
        )
    manifest = json.loads((TEAMS_DIR / "manifest.json").read_text(encoding="utf-8"))
    manifest["id"] = app_id
    manifest["bots"][0]["botId"] = app_id
    manifest["webApplicationInfo"] = {"id": app_id, "resource": f"api://botid-{app_id}"}
    if public_url:
        host = urlsplit(public_url).netloc
        manifest["validDomains"] = [host]
        manifest["webApplicationInfo"]["resource"] = f"api://{host}/botid-{app_id}"
        manifest = json.loads(json.dumps(manifest).replace(TAB_PLACEHOLDER,
                                                           public_url.rstrip("/")))
    else:
        manifest["staticTabs"] = [tab for tab in manifest["staticTabs"]
                                  if "contentUrl" not in tab]
        del manifest["configurableTabs"]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out_path, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2) + "\n")
        for icon in ICONS:
            package.write(TEAMS_DIR / icon, arcname=icon)
    return out_path
