"""The closed panel (honour-based violence, 002): one rule for who sees such a case, used by
every button, command, card, message and export that touches one.

The chair and the people the chair admitted see it; nobody else, whatever their roles."""

from __future__ import annotations

from collections.abc import Iterable

from storage.models import Case, Role


def may_see(case: Case, roles: frozenset[Role], person_id: int | None) -> bool:
    """Whether this person may see (and so add to) this case as far as the closed panel goes."""
    return (not case.closed_panel or Role.CHAIR in roles
            or (person_id is not None and person_id in (case.admitted_person_ids or [])))


def refusal(case: Case) -> str:
    return (f"{case.number} is heard in a closed panel: only the chair and the people admitted "
            "to it see or add to it.")


def admitted_only(case: Case, people: Iterable[int]) -> tuple[int, ...]:
    """Of these people (none of them the chair by office), those who may be sent the case."""
    return tuple(p for p in people if may_see(case, frozenset(), p))
