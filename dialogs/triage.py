"""Triage: the coordinator and triage members accept, decline or ask for more information on
each pending referral, and confirm or split possible duplicates. Every decision is
idempotent: pressing the same button twice changes nothing the second time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.refusal import Refusal
from dialogs.scheduling import Placement, SchedulingError, calendar_of, place
from storage.database import lock_marac
from storage.models import Case, Marac, Meeting, Referral, ReferralStatus

AWAITING_TRIAGE = (ReferralStatus.PENDING, ReferralStatus.NEEDS_INFORMATION,
                   ReferralStatus.POSSIBLE_DUPLICATE)


class TriageError(Refusal):
    """A triage decision that cannot be taken; str() is one plain sentence."""


@dataclass(frozen=True)
class TriageOutcome:
    referral: Referral
    placement: Placement | None = None
    already_decided: bool = False


async def awaiting_triage(session: AsyncSession, marac_id: int) -> list[Referral]:
    return list((await session.scalars(
        select(Referral)
        .where(Referral.marac_id == marac_id, Referral.status.in_(AWAITING_TRIAGE))
        .order_by(Referral.received_on, Referral.id)
    )).all())


async def accept(session: AsyncSession, marac_id: int, referral_id: int, person_id: int | None,
                 now: datetime) -> TriageOutcome:
    referral = await _referral(session, marac_id, referral_id)
    if referral.status is ReferralStatus.ACCEPTED:
        return TriageOutcome(referral, await _placement_of(session, referral), True)
    _must_await_triage(referral, "accepted")
    if referral.status is ReferralStatus.POSSIBLE_DUPLICATE:
        raise TriageError("This referral may repeat another one: confirm it as the same "
                          "matter or split it off first.")
    # One placement at a time per MARAC: two accepts must not both take the last slot.
    marac = await lock_marac(session, marac_id)
    _decide(referral, ReferralStatus.ACCEPTED, "", person_id, now)
    try:
        return TriageOutcome(referral, await place(session, marac, referral, now))
    except SchedulingError as error:
        raise TriageError(str(error)) from error


async def decline(session: AsyncSession, marac_id: int, referral_id: int, person_id: int | None,
                  reason: str, now: datetime) -> TriageOutcome:
    return await _close(session, marac_id, referral_id, person_id, now,
                        ReferralStatus.DECLINED, reason, "A reason is needed to decline.")


async def needs_information(session: AsyncSession, marac_id: int, referral_id: int,
                            person_id: int | None, note: str, now: datetime) -> TriageOutcome:
    return await _close(session, marac_id, referral_id, person_id, now,
                        ReferralStatus.NEEDS_INFORMATION, note,
                        "Say what information is needed.")


async def confirm_duplicate(session: AsyncSession, marac_id: int, referral_id: int,
                            person_id: int | None, now: datetime) -> TriageOutcome:
    referral = await _referral(session, marac_id, referral_id)
    if referral.status is ReferralStatus.MERGED:
        return TriageOutcome(referral, already_decided=True)
    if referral.status is not ReferralStatus.POSSIBLE_DUPLICATE:
        raise TriageError("This referral is not marked as a possible duplicate.")
    _decide(referral, ReferralStatus.MERGED, f"Same matter as referral {referral.duplicate_of_id}.",
            person_id, now)
    return TriageOutcome(referral)


async def split_duplicate(session: AsyncSession, marac_id: int, referral_id: int,
                          person_id: int | None, now: datetime) -> TriageOutcome:
    referral = await _referral(session, marac_id, referral_id)
    if referral.status is not ReferralStatus.POSSIBLE_DUPLICATE:
        return TriageOutcome(referral, already_decided=True)
    referral.duplicate_of_id = None
    _decide(referral, ReferralStatus.PENDING, "Split: a separate matter.", person_id, now)
    return TriageOutcome(referral)


async def _close(session: AsyncSession, marac_id: int, referral_id: int, person_id: int | None,
                 now: datetime, status: ReferralStatus, note: str, missing: str
                 ) -> TriageOutcome:
    referral = await _referral(session, marac_id, referral_id)
    if referral.status is status:
        return TriageOutcome(referral, already_decided=True)
    if not note.strip():
        raise TriageError(missing)
    _must_await_triage(referral, status.value.replace("_", " "))
    _decide(referral, status, note.strip(), person_id, now)
    return TriageOutcome(referral)


def _must_await_triage(referral: Referral, wanted: str) -> None:
    if referral.status not in AWAITING_TRIAGE:
        raise TriageError(f"This referral was already {referral.status.value}, so it cannot be "
                          f"marked {wanted}.")


def _decide(referral: Referral, status: ReferralStatus, note: str, person_id: int | None,
            now: datetime) -> None:
    referral.status = status
    referral.triage_note = note
    referral.triaged_by_person_id = person_id
    referral.updated_at = now


async def _referral(session: AsyncSession, marac_id: int, referral_id: int) -> Referral:
    referral = await session.get(Referral, referral_id, with_for_update=True)
    if referral is None or referral.marac_id != marac_id:
        raise TriageError("That referral is not one of this MARAC's.")
    return referral


async def _placement_of(session: AsyncSession, referral: Referral) -> Placement | None:
    row = (await session.execute(
        select(Case, Meeting).join(Meeting, Meeting.id == Case.meeting_id)
        .where(Case.referral_id == referral.id)
    )).first()
    if row is None:
        return None
    case, meeting = row
    marac = await session.get_one(Marac, referral.marac_id)
    window = calendar_of(marac).window(referral.received_on, marac.earliest_working_days,
                                       marac.latest_working_days)
    return Placement(case, meeting, case.breaches_target, window)
