"""Roles count only in the MARAC being acted on (issue 13, finding 1).

Nina coordinates Northgate and is only an observer in Riverside; Nora is a Riverside observer
and a Northgate triage member. In personal chat neither gets the union of their roles: they
name the MARAC they mean, and in Riverside they have only an observer's view."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botbuilder.schema import Activity
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.teams.conversation import arrival_of
from bot.turns.access import context_of, named_marac, pressed_marac, refusal
from bot.turns.registry import Place, buttons, commands
from dialogs.demo import DEMO_TENANT
from dialogs.membership import Grant, scope
from storage.models import Agency, Marac, Person, Referral, ReferralStatus, Role, RoleGrant
from tests.store.referral_factory import card_payload, refer, seeded
from tests.turns import handle_card_action, handle_message

NINA, NORA = "aad-nina", "aad-nora"


def personal(aad: str, text: str = "", invoke: dict[str, Any] | None = None) -> Activity:
    body: dict[str, Any] = {
        "type": "invoke" if invoke else "message", "id": f"m-{aad}-{text}-{invoke}",
        "channelId": "msteams", "serviceUrl": "http://x/", "text": text,
        "from": {"id": f"user-{aad}", "aadObjectId": aad, "name": "Someone"},
        "recipient": {"id": "bot"},
        "conversation": {"id": f"chat-{aad}", "conversationType": "personal",
                         "tenantId": DEMO_TENANT},
        "channelData": {"tenant": {"id": DEMO_TENANT}},
    }
    if invoke:
        body |= {"name": "adaptiveCard/action", "value": {"action": invoke}}
    return Activity().deserialize(body)


async def two_maracs(store, clock) -> tuple[int, int]:
    """Riverside (the demo) and Northgate in the same tenant; Nina and Nora in both."""
    riverside = await seeded(store, clock)
    async with store.unit_of_work() as session:
        northgate = Marac(name="Northgate MARAC", area="Northgate", tenant_id=DEMO_TENANT,
                          case_prefix="NOR")
        session.add_all([northgate, Agency(marac=northgate, name="Police", is_core=True)])
        await session.flush()
        for aad, first, here, there in ((NINA, "Nina", Role.COORDINATOR, Role.OBSERVER),
                                        (NORA, "Nora", Role.TRIAGE_MEMBER, Role.OBSERVER)):
            session.add(Person(tenant_id=DEMO_TENANT, aad_object_id=aad, first_name=first,
                               grants=[RoleGrant(marac_id=northgate.id, role=here),
                                       RoleGrant(marac_id=riverside, role=there)]))
        return riverside, northgate.id


def said(posts: list[Any]) -> str:
    return json.dumps([post.message.serialize() for post in posts])


async def test_nina_never_acts_in_riverside_as_its_coordinator(store, clock):
    riverside, northgate = await two_maracs(store, clock)
    waiting = await refer(store, clock, riverside, card_payload())

    asked = said(await handle_message(personal(NINA, "people"), store, clock))
    assert "You serve several MARACs (Northgate MARAC, Riverside MARAC)" in asked

    for typed in ("people Riverside", "people RIV", "triage Riverside",
                  "grant coordinator Nina Riverside MARAC"):
        answer = said(await handle_message(personal(NINA, typed), store, clock))
        assert "Only a coordinator" in answer or "Only a coordinator or" in answer, typed
        assert "Cara" not in answer and "Jess" not in answer

    northgate_people = said(await handle_message(personal(NINA, "people NOR"), store, clock))
    assert "Nina" in northgate_people and "Cara" not in northgate_people

    answer, _, _ = await handle_card_action(
        personal(NINA, invoke={"type": "Action.Execute", "verb": "triage.decline",
                               "data": {"referral_id": waiting.id}}),
        {"verb": "triage.decline", "data": {"referral_id": waiting.id}}, store, clock)
    assert "Only a" in answer["value"]
    async with store.unit_of_work() as session:
        assert (await session.get_one(Referral, waiting.id)).status is not (
            ReferralStatus.DECLINED)
        nina = await session.scalar(select(Person).where(Person.aad_object_id == NINA))
        grants = set((await session.execute(select(RoleGrant.marac_id, RoleGrant.role).where(
            RoleGrant.person_id == nina.id))).tuples().all())
    assert grants == {(northgate, Role.COORDINATOR), (riverside, Role.OBSERVER)}


async def test_nora_gets_only_an_observers_agenda_in_riverside(store, clock):
    await two_maracs(store, clock)
    answer = said(await handle_message(personal(NORA, "agenda Riverside"), store, clock))
    assert "RIV-2026-001" in answer and "reason not recorded" not in answer
    detailed = said(await handle_message(personal(NORA, "agenda"), store, clock))
    assert "You serve several MARACs" in detailed


# --- the property: over generated people holding grants in several MARACs ------------------

ROLES = st.frozensets(st.sampled_from(list(Role)), max_size=3)
NAMINGS = st.sampled_from(["", " Riverside", " NOR", " Northgate MARAC", " RIV-2026-001"])


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(riverside_roles=ROLES, northgate_roles=ROLES, naming=NAMINGS,
       command=st.sampled_from([c for c in commands() if Place.PERSONAL in c.places]))
def test_no_command_counts_a_role_from_another_marac(riverside_roles, northgate_roles, naming,
                                                     command):
    """Pure: whatever is named, the roles in scope are exactly those held in the MARAC in
    scope, and a command is let through only on a role held there."""
    grants = [Grant(1, "Riverside MARAC", r) for r in riverside_roles] + [
        Grant(2, "Northgate MARAC", r) for r in northgate_roles]
    for named in (None, 1, 2, 3):
        scoped = scope(grants, named)
        held = {g.role for g in grants if g.marac_id == scoped.marac_id}
        assert scoped.roles == held
        if scoped.marac_id is None:
            assert not scoped.roles
        if command.roles is not None and command.allows(scoped.roles):
            assert command.roles & held


PRESSES = st.sampled_from([c.name for c in buttons() if Place.PERSONAL in c.places])


async def test_in_the_store_no_command_or_button_reaches_a_marac_without_the_role(store, clock):
    """Generated people with grants in both MARACs, every personal-chat command with every way
    of naming a MARAC, and every button naming each MARAC's referral: whatever is let through
    acts in a MARAC where the person holds a role that the command needs."""
    riverside, northgate = await two_maracs(store, clock)
    referrals = {riverside: (await refer(store, clock, riverside, card_payload())).id}
    people = st.tuples(ROLES, ROLES)
    examples: list[tuple[frozenset[Role], frozenset[Role]]] = []

    @settings(max_examples=25, database=None)
    @given(people)
    def collect(pair):
        examples.append(pair)
    collect()

    for n, (in_riverside, in_northgate) in enumerate(examples):
        aad = f"aad-generated-{n}"
        async with store.unit_of_work() as session:
            session.add(Person(tenant_id=DEMO_TENANT, aad_object_id=aad, first_name="Gen",
                               grants=[*(RoleGrant(marac_id=riverside, role=r)
                                         for r in in_riverside),
                                       *(RoleGrant(marac_id=northgate, role=r)
                                         for r in in_northgate)]))
        held = {riverside: in_riverside, northgate: in_northgate}
        async with store.unit_of_work() as session:
            for command in (c for c in commands() if Place.PERSONAL in c.places):
                for naming in ("", " Riverside", " NOR", " RIV-2026-001", " Elsewhere"):
                    activity = arrival_of(personal(aad, command.name + naming))
                    named, _ = await named_marac(session, activity, naming)
                    context = await context_of(session, activity, command, named=named)
                    if refusal(command, context) is None and command.roles is not None:
                        assert context.marac_id is not None
                        assert context.actor.roles == held[context.marac_id]
                        assert command.roles & held[context.marac_id], (command.name, naming)
            for verb in [c for c in buttons() if Place.PERSONAL in c.places]:
                for data in ({"referral_id": referrals[riverside]}, {"marac": northgate},
                             {"case": "RIV-2026-001"}, {}):
                    activity = arrival_of(personal(aad, invoke={
                        "type": "Action.Execute", "verb": verb.name, "data": data}))
                    named = await pressed_marac(session, activity, data)
                    context = await context_of(session, activity, named=named)
                    if refusal(verb, context) is None:
                        assert context.marac_id is not None
                        assert context.actor.roles == held[context.marac_id]
                        assert verb.roles is not None and verb.roles & held[context.marac_id]


async def test_a_running_meeting_is_found_only_by_its_own_marac(store, clock):
    """Issue 13, finding 9: a forged envelope naming another MARAC's meeting chat finds no
    meeting there."""
    from dialogs import meeting as run
    from dialogs.meeting import MeetingError
    from tests.store.meeting_factory import CHANNEL, started

    demo = await started(store, clock)
    async with store.unit_of_work() as session:
        northgate = Marac(name="Northgate MARAC", area="Northgate", tenant_id=DEMO_TENANT,
                          case_prefix="NOR")
        session.add(northgate)
        await session.flush()
        assert (await run.must_be_under_way(session, CHANNEL, demo.marac_id)).id == (
            demo.meeting_id)
        with pytest.raises(MeetingError, match="No meeting is running here"):
            await run.must_be_under_way(session, CHANNEL, northgate.id)
