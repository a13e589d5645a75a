"""Which MARAC a person acts in: roles count only in the MARAC being acted on, never the union
of the roles they hold in several.

In a MARAC's channel or chat that MARAC is the conversation's. In personal chat it is the one
the person names (its name or case prefix, typed after the command, or the prefix of a case
number they type), the one a pressed button's referral, case or action belongs to, or their
only MARAC; someone in several who names none is asked which they mean."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.ids import row_id
from storage.models import ActionFollowUp, Case, Marac, Meeting, Referral, Role


@dataclass(frozen=True)
class Grant:
    marac_id: int
    marac_name: str
    role: Role


@dataclass(frozen=True)
class Scope:
    """The MARAC acted on and the roles held there; `unnamed` lists the person's MARACs when
    they serve several and named none (so nothing is in scope)."""
    marac_id: int | None
    roles: frozenset[Role]
    unnamed: tuple[str, ...] = ()


def scope(grants: Iterable[Grant], named: int | None) -> Scope:
    """The roles held in the MARAC named, or in the only MARAC the person serves."""
    grants = list(grants)
    maracs = {grant.marac_id: grant.marac_name for grant in grants}
    if named is None and len(maracs) == 1:
        named = next(iter(maracs))
    if named is None:
        return Scope(None, frozenset(), tuple(sorted(maracs.values())))
    return Scope(named, frozenset(g.role for g in grants if g.marac_id == named))


def roles_in(grants: Iterable[Grant], marac_id: int | None) -> frozenset[Role]:
    return frozenset(g.role for g in grants if g.marac_id == marac_id)


async def named_in(session: AsyncSession, tenant_id: str, arguments: str
                   ) -> tuple[int | None, str]:
    """The MARAC named in what was typed, and the words left once its name is taken off.

    A case number carrying its prefix, e.g. `plan RIV-2026-001` (left in place): a case names
    its own MARAC, whatever other MARAC is named after it (`transfer RIV-2026-001
    Westbrook`); or else its name or case prefix as the last word(s), e.g.
    `people Riverside`."""
    if not arguments.strip():
        return None, arguments  # nothing typed can name one
    maracs = (await session.execute(select(Marac.id, Marac.name, Marac.case_prefix)
                                    .where(Marac.tenant_id == tenant_id))).all()
    folded = arguments.strip().casefold()
    for word in folded.split():
        for marac_id, _, prefix in maracs:
            if word.startswith(prefix.casefold() + "-"):
                return marac_id, arguments
    for marac_id, name, prefix in maracs:
        short = name.casefold().removesuffix(" marac")
        for label in (name.casefold(), short, prefix.casefold()):
            if folded == label or folded.endswith(" " + label):
                return marac_id, arguments.strip()[:len(folded) - len(label)].strip()
    return None, arguments


async def marac_of_press(session: AsyncSession, data: dict[str, Any]) -> int | None:
    """The MARAC whose referral, case or action a button names (or the form's own MARAC).

    Whatever the payload says, only the roles held in that MARAC then count, and every dialog
    looks the thing up within it: a forged payload can only narrow, never widen."""
    if (marac := row_id(data.get("marac"))) is not None:
        return marac
    if (referral := row_id(data.get("referral_id"))) is not None:
        return await session.scalar(select(Referral.marac_id).where(Referral.id == referral))
    number = data.get("case", data.get("case_number"))
    if isinstance(number, str) and number:
        return await session.scalar(select(Meeting.marac_id).join(Case, Case.meeting_id
                                                                  == Meeting.id)
                                    .where(Case.number == number))
    if (follow_up := row_id(data.get("follow_up"))) is not None:
        return await session.scalar(
            select(Meeting.marac_id).join(Case, Case.meeting_id == Meeting.id)
            .join(ActionFollowUp, ActionFollowUp.case_id == Case.id)
            .where(ActionFollowUp.id == follow_up))
    return None

