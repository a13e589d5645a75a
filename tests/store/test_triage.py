"""Triage: accept, decline, ask for more, confirm or split a possible duplicate. Each
decision is idempotent, each refusal one sentence that changes nothing, on SQLite and
PostgreSQL, including two people pressing the same button at once."""

import asyncio

import pytest
from sqlalchemy import select

from dialogs import triage
from dialogs.demo import DEMO_PEOPLE
from dialogs.triage import TriageError
from storage.models import Case, Meeting, Person, Referral, ReferralStatus
from tests.store.referral_factory import (
    accept,
    card_payload,
    count,
    is_one_sentence,
    other_marac,
    refer,
    reload,
    seeded,
)


async def pending(store, clock, **fields):
    marac_id = await seeded(store, clock)
    referral = await refer(store, clock, marac_id, card_payload(**fields))
    assert referral.status is ReferralStatus.PENDING
    return marac_id, referral


async def refused(store, decide) -> str:
    """Run a decision in its own unit of work, expecting a TriageError: its sentence."""
    with pytest.raises(TriageError) as error:
        async with store.unit_of_work() as session:
            await decide(session)
    assert is_one_sentence(str(error.value))
    return str(error.value)


async def test_accepting_lists_the_case_and_records_who_decided(store, clock):
    marac_id, referral = await pending(store, clock)
    async with store.unit_of_work() as session:
        coordinator = await session.scalar(select(Person.id).where(
            Person.aad_object_id == DEMO_PEOPLE[0].aad_object_id))
        outcome = await triage.accept(session, marac_id, referral.id, coordinator, clock.now())
    assert not outcome.already_decided and outcome.placement is not None
    stored = await reload(store, Referral, referral.id)
    assert stored.status is ReferralStatus.ACCEPTED
    assert stored.triaged_by_person_id == coordinator
    assert await count(store, Case, Case.referral_id == referral.id) == 1


async def test_accepting_twice_is_already_decided_and_lists_one_case(store, clock):
    marac_id, referral = await pending(store, clock)
    first = await accept(store, clock, marac_id, referral.id)
    again = await accept(store, clock, marac_id, referral.id)
    assert again.already_decided
    assert again.placement is not None and first.placement is not None
    assert again.placement.case.number == first.placement.case.number
    assert again.placement.meeting.id == first.placement.meeting.id
    assert await count(store, Case, Case.referral_id == referral.id) == 1


async def test_accepting_twice_reports_the_same_hearing_window(store, clock):
    marac_id, referral = await pending(store, clock)
    first = await accept(store, clock, marac_id, referral.id)
    again = await accept(store, clock, marac_id, referral.id)
    assert first.placement is not None and again.placement is not None
    assert again.placement.window == first.placement.window


async def test_declining_needs_a_reason_and_a_refusal_changes_nothing(store, clock):
    marac_id, referral = await pending(store, clock)
    sentence = await refused(store, lambda s: triage.decline(
        s, marac_id, referral.id, None, "   ", clock.now()))
    assert sentence == "A reason is needed to decline."
    stored = await reload(store, Referral, referral.id)
    assert stored.status is ReferralStatus.PENDING and stored.triage_note == ""


async def test_declining_twice_is_idempotent(store, clock):
    marac_id, referral = await pending(store, clock)
    for reason in ("Below threshold after the IDVA's review.", ""):
        async with store.unit_of_work() as session:
            outcome = await triage.decline(session, marac_id, referral.id, None, reason,
                                           clock.now())
    assert outcome.already_decided
    stored = await reload(store, Referral, referral.id)
    assert stored.status is ReferralStatus.DECLINED
    assert stored.triage_note == "Below threshold after the IDVA's review."
    assert await count(store, Case) == await count(store, Case, Case.referral_id.is_(None))


async def test_an_accepted_referral_cannot_then_be_declined(store, clock):
    marac_id, referral = await pending(store, clock)
    await accept(store, clock, marac_id, referral.id)
    sentence = await refused(store, lambda s: triage.decline(
        s, marac_id, referral.id, None, "Changed our minds.", clock.now()))
    assert sentence == "This referral was already accepted, so it cannot be marked declined."
    assert (await reload(store, Referral, referral.id)).status is ReferralStatus.ACCEPTED


async def test_asking_for_more_information_keeps_the_note_and_can_then_be_accepted(
        store, clock):
    marac_id, referral = await pending(store, clock)
    sentence = await refused(store, lambda s: triage.needs_information(
        s, marac_id, referral.id, None, "", clock.now()))
    assert sentence == "Say what information is needed."
    async with store.unit_of_work() as session:
        await triage.needs_information(session, marac_id, referral.id, None,
                                       " Which school do the children attend? ", clock.now())
    stored = await reload(store, Referral, referral.id)
    assert stored.status is ReferralStatus.NEEDS_INFORMATION
    assert stored.triage_note == "Which school do the children attend?"
    assert (await accept(store, clock, marac_id, referral.id)).placement is not None


async def test_a_referral_of_another_marac_is_refused(store, clock):
    marac_id = await seeded(store, clock)
    elsewhere = await other_marac(store)
    theirs = await refer(store, clock, elsewhere, card_payload())
    for decide in (
        lambda s: triage.accept(s, marac_id, theirs.id, None, clock.now()),
        lambda s: triage.decline(s, marac_id, theirs.id, None, "Not ours.", clock.now()),
        lambda s: triage.confirm_duplicate(s, marac_id, theirs.id, None, clock.now()),
    ):
        assert await refused(store, decide) == "That referral is not one of this MARAC's."
    assert (await reload(store, Referral, theirs.id)).status is ReferralStatus.PENDING
    assert await count(store, Case, Case.referral_id == theirs.id) == 0


async def test_a_referral_that_does_not_exist_is_refused(store, clock):
    marac_id = await seeded(store, clock)
    sentence = await refused(store, lambda s: triage.accept(s, marac_id, 9999, None,
                                                            clock.now()))
    assert sentence == "That referral is not one of this MARAC's."


async def duplicate_pair(store, clock):
    marac_id = await seeded(store, clock)
    first = await refer(store, clock, marac_id, card_payload(received_on="2026-11-20"))
    second = await refer(store, clock, marac_id, card_payload(referring_agency="Police"))
    assert second.status is ReferralStatus.POSSIBLE_DUPLICATE
    return marac_id, first, second


async def test_a_possible_duplicate_cannot_be_accepted_until_confirmed_or_split(store, clock):
    marac_id, _, second = await duplicate_pair(store, clock)
    sentence = await refused(store, lambda s: triage.accept(s, marac_id, second.id, None,
                                                            clock.now()))
    assert sentence == ("This referral may repeat another one: confirm it as the same matter "
                        "or split it off first.")
    assert await count(store, Case, Case.referral_id == second.id) == 0


async def test_confirming_a_duplicate_merges_it_into_the_first(store, clock):
    marac_id, first, second = await duplicate_pair(store, clock)
    for _ in range(2):
        async with store.unit_of_work() as session:
            outcome = await triage.confirm_duplicate(session, marac_id, second.id, None,
                                                     clock.now())
    assert outcome.already_decided
    stored = await reload(store, Referral, second.id)
    assert stored.status is ReferralStatus.MERGED and stored.duplicate_of_id == first.id
    sentence = await refused(store, lambda s: triage.accept(s, marac_id, second.id, None,
                                                            clock.now()))
    assert sentence == "This referral was already merged, so it cannot be marked accepted."


async def test_splitting_a_duplicate_sends_it_to_triage_as_its_own_referral(store, clock):
    marac_id, _, second = await duplicate_pair(store, clock)
    async with store.unit_of_work() as session:
        await triage.split_duplicate(session, marac_id, second.id, None, clock.now())
    stored = await reload(store, Referral, second.id)
    assert stored.status is ReferralStatus.PENDING and stored.duplicate_of_id is None
    sentence = await refused(store, lambda s: triage.confirm_duplicate(
        s, marac_id, second.id, None, clock.now()))
    assert sentence == "This referral is not marked as a possible duplicate."
    assert (await accept(store, clock, marac_id, second.id)).placement is not None


async def test_awaiting_triage_lists_pending_possible_duplicates_and_queries(store, clock):
    marac_id, first, second = await duplicate_pair(store, clock)
    declined = await refer(store, clock, marac_id, card_payload(
        yes=3, victim_first_name="Lena", victim_reference="RIV-V-0300"))
    async with store.unit_of_work() as session:
        waiting = await triage.awaiting_triage(session, marac_id)
    assert [r.id for r in waiting] == [first.id, second.id]
    assert declined.id not in [r.id for r in waiting]


async def test_two_accepts_at_once_list_the_case_once(store, clock):
    marac_id, referral = await pending(store, clock)

    async def press() -> bool:
        async with store.unit_of_work() as session:
            outcome = await triage.accept(session, marac_id, referral.id, None, clock.now())
            return outcome.already_decided

    decided = await asyncio.gather(press(), press())
    assert sorted(decided) == [False, True]
    assert await count(store, Case, Case.referral_id == referral.id) == 1
    assert (await reload(store, Referral, referral.id)).status is ReferralStatus.ACCEPTED


async def test_two_different_referrals_accepted_at_once_share_one_meeting(store, clock):
    marac_id = await seeded(store, clock)
    ids = [(await refer(store, clock, marac_id, card_payload(
        victim_first_name=name, victim_reference=f"RIV-V-{n}"))).id
        for n, name in enumerate(("Jess", "Lena"))]

    async def press(referral_id: int) -> None:
        async with store.unit_of_work() as session:
            await triage.accept(session, marac_id, referral_id, None, clock.now())

    async with store.unit_of_work() as session:  # the first accept, still uncommitted...
        await triage.accept(session, marac_id, ids[0], None, clock.now())
        second = asyncio.create_task(press(ids[1]))  # ...while the second one starts
        await asyncio.sleep(1)
    await second
    async with store.unit_of_work() as session:
        rows = (await session.execute(
            select(Case.number, Case.slot, Meeting.id)
            .join(Meeting, Meeting.id == Case.meeting_id)
            .where(Case.referral_id.in_(ids)))).all()
    assert len({number for number, _, _ in rows}) == 2
    assert sorted(slot for _, slot, _ in rows) == [1, 2]
    assert len({meeting for _, _, meeting in rows}) == 1


async def test_three_referrals_accepted_together_fill_slots_one_to_three(store, clock):
    marac_id = await seeded(store, clock)
    ids = [(await refer(store, clock, marac_id, card_payload(
        victim_first_name=name, victim_reference=f"RIV-V-{n}"))).id
        for n, name in enumerate(("Jess", "Lena", "Maya"))]

    async def press(referral_id: int) -> None:
        async with store.unit_of_work() as session:
            await triage.accept(session, marac_id, referral_id, None, clock.now())

    await asyncio.gather(*(press(i) for i in ids))
    async with store.unit_of_work() as session:
        rows = (await session.execute(
            select(Case.number, Case.slot, Meeting.id)
            .join(Meeting, Meeting.id == Case.meeting_id)
            .where(Case.referral_id.in_(ids)))).all()
    assert len({number for number, _, _ in rows}) == 3
    assert sorted(slot for _, slot, _ in rows) == [1, 2, 3]
    assert len({meeting for _, _, meeting in rows}) == 1
