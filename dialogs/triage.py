"""Triage: the coordinator and triage members accept, decline or ask for more information on
each pending referral, and confirm or split possible duplicates. Every decision is
idempotent: pressing the same button twice changes nothing the second time.

The referrer is told what became of their referral (seed 001): each decision names who to
tell (`TriageOutcome.tell`), and the referrer's answer to "needs more information" puts the
referral back in the triage queue with the answer beside the question."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.agenda import agenda_lines
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
    slot_starts_at: datetime | None = None  # an accepted case's expected slot at its meeting

    @property
    def tell(self) -> int | None:
        """The referrer to tell of this decision: only when it was just taken, and only a
        referrer the bot can reach (a police-feed referral has none)."""
        return None if self.already_decided else self.referral.referred_by_person_id


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
        placement = await place(session, marac, referral, now)
    except SchedulingError as error:
        raise TriageError(str(error)) from error
    return TriageOutcome(referral, placement,
                         slot_starts_at=await _slot_starts_at(session, marac, placement))


async def decline(session: AsyncSession, marac_id: int, referral_id: int, person_id: int | None,
                  reason: str, now: datetime) -> TriageOutcome:
    return await _close(session, marac_id, referral_id, person_id, now,
                        ReferralStatus.DECLINED, reason, "A reason is needed to decline.")


async def needs_information(session: AsyncSession, marac_id: int, referral_id: int,
                            person_id: int | None, note: str, now: datetime) -> TriageOutcome:
    return await _close(session, marac_id, referral_id, person_id, now,
                        ReferralStatus.NEEDS_INFORMATION, note,
                        "Say what information is needed.")


async def answer_information(session: AsyncSession, marac_id: int, referral_id: int,
                             person_id: int | None, answer: str, now: datetime
                             ) -> TriageOutcome:
    """The referrer's answer to the question triage asked: the referral waits for triage
    again, the answer shown beside the question."""
    referral = await _referral(session, marac_id, referral_id)
    if person_id is None or referral.referred_by_person_id != person_id:
        raise TriageError("Only the person who made this referral can answer for it.")
    if referral.status is ReferralStatus.PENDING and referral.information_answer:
        return TriageOutcome(referral, already_decided=True)
    if referral.status is not ReferralStatus.NEEDS_INFORMATION:
        raise TriageError(f"This referral was already {referral.status.value.replace('_', ' ')}, "
                          "so no answer is awaited.")
    if not answer.strip():
        raise TriageError("Write your answer to the question before sending it.")
    referral.status = ReferralStatus.PENDING
    referral.information_answer = answer.strip()
    referral.updated_at = now
    return TriageOutcome(referral)


async def question_for(session: AsyncSession, marac_id: int, referral_id: int | None,
                       person_id: int | None) -> Referral | None:
    """The referral awaiting this referrer's answer, if that is what `referral_id` names."""
    referral = None if referral_id is None else await session.get(Referral, referral_id)
    if (referral is None or referral.marac_id != marac_id or person_id is None
            or referral.referred_by_person_id != person_id
            or referral.status is not ReferralStatus.NEEDS_INFORMATION):
        return None
    return referral


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
    if status is ReferralStatus.NEEDS_INFORMATION:
        referral.information_answer = None  # a new question awaits a new answer
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


async def _slot_starts_at(session: AsyncSession, marac: Marac, placement: Placement
                          ) -> datetime | None:
    """When the case's slot is expected to start, as the agenda times it."""
    await session.flush()
    lines = await agenda_lines(session, marac, placement.meeting)
    return next((line.starts_at for line in lines
                 if line.case_number == placement.case.number), None)


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
