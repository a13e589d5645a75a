"""The coordinator's `people`, `grant` and `revoke`, and the operations manager's `audit`."""

from __future__ import annotations

from bot.turns.registry import COORDINATORS, MANAGERS, PERSONAL_ONLY, command
from bot.turns.replies import Message, card_reply, text_reply
from bot.turns.request import Request
from cards.people import audit_card, people_card, subject_access_card
from dialogs import people, subject_access
from storage.models import Marac


@command("people", "List this MARAC's people and their roles.", "people",
         roles=COORDINATORS, places=PERSONAL_ONLY, menu=False)
async def _people(request: Request) -> Message:
    marac = await request.session.get_one(Marac, request.marac_id)
    return card_reply(people_card(marac.name, await people.members(request.session,
                                                                   marac.id)),
                      "People and roles")


async def _change(request: Request, granting: bool) -> Message:
    word, _, name = request.arguments.strip().partition(" ")
    role = people.parse_role(word)
    person = await people.person_named(request.session, request.marac_id, name)
    change = people.grant if granting else people.revoke
    changed = await change(request.session, request.marac_id, person, role)
    if not changed:
        return text_reply(f"{person.first_name} {'already holds' if granting else 'does not hold'}"
                          f" the {role.label} role; nothing changed.")
    return text_reply(f"{person.first_name} {'is now' if granting else 'is no longer'} "
                      f"{role.label} of this MARAC.")


@command("grant", "Give someone a role in this MARAC.", "grant ROLE FIRSTNAME",
         roles=COORDINATORS, places=PERSONAL_ONLY, menu=False)
async def _grant(request: Request) -> Message:
    return await _change(request, granting=True)


@command("revoke", "Take a role away from someone.", "revoke ROLE FIRSTNAME",
         roles=COORDINATORS, places=PERSONAL_ONLY, menu=False)
async def _revoke(request: Request) -> Message:
    return await _change(request, granting=False)


@command("audit", "Show a case's audit trail: every view, change and refusal.", "audit CASE",
         roles=MANAGERS, places=PERSONAL_ONLY, menu=False)
async def _audit(request: Request) -> Message:
    subject = request.arguments.strip()
    if not subject:
        return text_reply("Say which case, e.g. **audit RIV-2026-001**.")
    events = await people.audit_of(request.session, request.marac_id, subject)
    return card_reply(audit_card(subject, events), f"Audit trail: {subject}")


@command("sar", "Everything held about a victim, redacted, for a subject access request.",
         "sar REFERENCE", roles=MANAGERS, places=PERSONAL_ONLY, menu=False)
async def _sar(request: Request) -> Message:
    reference = request.arguments.strip()
    if not reference:
        return text_reply("Say whose, by the victim's reference, e.g. **sar VR-1042**.")
    held = await subject_access.gather(request.session, request.marac_id, reference)
    return card_reply(subject_access_card(held, request.marac_id), "Subject access request")

