"""The Playground's MARAC team is made of the people the demo seeds, with the same ids."""

import re

from bot.ops.playground import MARAC_TEAM_CONFIG
from dialogs.demo import DEMO_PEOPLE, DEMO_TEAM, DEMO_TENANT


def test_playground_users_are_demo_people():
    text = MARAC_TEAM_CONFIG.read_text()
    demo = {p.aad_object_id: p.full_name for p in DEMO_PEOPLE}
    users = dict(zip(re.findall(r"aadObjectId: (\S+)", text),
                     re.findall(r"\n\s+(?:- )?name: (?!MARAC\n)(.+)", text), strict=False))
    assert users, "no users found in the Playground config"
    for aad_object_id, name in users.items():
        assert demo.get(aad_object_id) == name
    assert f"tenantId: {DEMO_TENANT}" in text
    assert f'id: "{DEMO_TEAM}"' in text
