"""The coordinator's `people`, `grant` and `revoke`, and the operations manager's `audit`."""

from __future__ import annotations

from botbuilder.schema import Activity

from bot.replies import card_reply, text_reply
from bot.request import CommandHandler, Request
from cards.people import audit_card, people_card, subject_access_card
from dialogs import people, subject_access
from dialogs.people import PeopleError
from storage.models import Marac


async def _people(request: Request) -> Activity:
    marac = await request.session.get_one(Marac, request.marac_id)
    return card_reply(people_card(marac.name, await people.members(request.session,
                                                                   marac.id)),
                      "People and roles")


async def _change(request: Request, granting: bool) -> Activity:
    word, _, name = request.arguments.strip().partition(" ")
    try:
        role = people.parse_role(word)
        person = await people.person_named(request.session, request.marac_id, name)
        change = people.grant if granting else people.revoke
        changed = await change(request.session, request.marac_id, person, role)
    except PeopleError as refused:
        return text_reply(str(refused))
    if not changed:
        return text_reply(f"{person.first_name} {'already holds' if granting else 'does not hold'}"
                          f" the {role.label} role; nothing changed.")
    return text_reply(f"{person.first_name} {'is now' if granting else 'is no longer'} "
                      f"{role.label} of this MARAC.")


async def _grant(request: Request) -> Activity:
    return await _change(request, granting=True)


async def _revoke(request: Request) -> Activity:
    return await _change(request, granting=False)


async def _audit(request: Request) -> Activity:
    subject = request.arguments.strip()
    if not subject:
        return text_reply("Say which case, e.g. **audit RIV-2026-001**.")
    events = await people.audit_of(request.session, request.marac_id, subject)
    return card_reply(audit_card(subject, events), f"Audit trail: {subject}")


async def _sar(request: Request) -> Activity:
    reference = request.arguments.strip()
    if not reference:
        return text_reply("Say whose, by the victim's reference, e.g. **sar VR-1042**.")
    held = await subject_access.gather(request.session, request.marac_id, reference)
    return card_reply(subject_access_card(held), "Subject access request")


PEOPLE_HANDLERS: dict[str, CommandHandler] = {
    "people": _people, "grant": _grant, "revoke": _revoke, "audit": _audit, "sar": _sar,
}
