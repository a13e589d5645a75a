"""The Playground's MARAC team is made of the people the demo seeds, with the same ids."""

import re

import pytest

from bot.ops.playground import MARAC_TEAM_CONFIG, WESTBROOK_TEAM_CONFIG
from dialogs.demo import DEMO_PEOPLE, DEMO_TEAM, DEMO_TENANT, WESTBROOK_PEOPLE, WESTBROOK_TEAM


@pytest.mark.parametrize(("config", "people", "team"), [
    (MARAC_TEAM_CONFIG, DEMO_PEOPLE, DEMO_TEAM),
    (WESTBROOK_TEAM_CONFIG, WESTBROOK_PEOPLE, WESTBROOK_TEAM)])
def test_playground_users_are_demo_people(config, people, team):
    text = config.read_text()
    demo = {p.aad_object_id: p.full_name for p in people}
    users = dict(zip(re.findall(r"aadObjectId: (\S+)", text),
                     re.findall(r"\n\s+(?:- )?name: (?!MARAC\n)(.+)", text), strict=False))
    assert users, "no users found in the Playground config"
    for aad_object_id, name in users.items():
        assert demo.get(aad_object_id) == name
    assert f"tenantId: {DEMO_TENANT}" in text
    assert f'id: "{team}"' in text
