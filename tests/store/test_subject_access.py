"""A subject access request gathers what is held about one victim and redacts everyone
else's names."""

import pytest
from sqlalchemy import select

from dialogs.case_work import add_action, add_information
from dialogs.subject_access import (
    REDACTED,
    WITHHELD,
    ReviewError,
    gather,
    items,
    read_review,
    redact,
    reviewed,
)
from storage.models import Agency, Case, CaseStatus
from tests.store.referral_factory import accept, card_payload, refer, seeded


def test_redaction_takes_out_whole_names_in_any_case():
    assert redact("Quillon told quillon's friend; Quillonson stays", {"Quillon"}) == (
        f"{REDACTED} told {REDACTED}'s friend; Quillonson stays")


async def held_with_a_case(store, clock) -> int:
    """The demo MARAC with victim VR-SAR-1's case: a Police action naming Priya and Quillon,
    the perpetrator; the MARAC's id."""
    marac_id = await seeded(store, clock)
    first = await refer(store, clock, marac_id, card_payload(
        yes=15, victim_reference="VR-SAR-1", perpetrator_first_name="Quillon"))
    await accept(store, clock, marac_id, first.id)
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.referral_id == first.id))
        police = await session.scalar(select(Agency.id).where(Agency.name == "Police"))
        assert case is not None and police is not None
        case.status = CaseStatus.OPEN
        await add_action(session, case, {
            "agency": "Police", "owner": "Priya", "for_whom": "perpetrator",
            "description": "Priya to warn Quillon about the order", "risk": "breach",
            "due_on": "2026-12-20"}, {"Police": police}, None, clock.now().date(), "k1")
        await add_information(session, case, police, "Two call-outs to Mill Lane in 2026.",
                              False, None, clock.now())
    return marac_id


async def test_everything_held_about_a_victim_comes_back_with_others_redacted(store, clock):
    marac_id = await held_with_a_case(store, clock)
    async with store.unit_of_work() as session:
        held = await gather(session, marac_id, "vr-sar-1 ")  # matched however it is typed
        nothing = await gather(session, marac_id, "VR-NOBODY")
    assert nothing.referrals == ()
    (referral,) = held.referrals
    assert referral.case is not None and referral.status == "accepted"
    text = " ".join(referral.case.actions)
    assert "Quillon" not in text and "Priya" not in text and REDACTED in text


async def test_the_operations_managers_review_withholds_items_and_redacts_further_words(
        store, clock):
    marac_id = await held_with_a_case(store, clock)
    async with store.unit_of_work() as session:
        held = await gather(session, marac_id, "VR-SAR-1")
    listed = items(held)
    assert listed[0] == "Two call-outs to Mill Lane in 2026."
    warning = listed.index(f"{REDACTED} to warn {REDACTED} about the order (for the perpetrator)")
    review = read_review({f"withhold_{warning + 1}": "true", "withhold_1": "false",
                          "redact": " Mill Lane , ,"}, len(listed))
    released = items(reviewed(held, review))
    assert released[0] == f"Two call-outs to {REDACTED} in 2026."
    assert released[warning] == WITHHELD
    assert [t for n, t in enumerate(released) if n not in (0, warning)] == [
        t for n, t in enumerate(listed) if n not in (0, warning)]
    assert items(held) == listed  # the record itself is unchanged


@pytest.mark.parametrize(("data", "why"), [
    ({"withhold_3": "true"}, "names an item that is not held"),
    ({"withhold_x": "true"}, "names an item that is not held"),
    ({"redact": ["Mill Lane"]}, "words separated by commas"),
    ({"redact": ",".join(f"w{n}" for n in range(51))}, "At most 50 further redactions"),
    ({"redact": "x" * 101}, "each under 100 characters"),
])
def test_a_review_that_cannot_be_applied_is_refused(data, why):
    with pytest.raises(ReviewError, match=why):
        read_review(data, 2)
