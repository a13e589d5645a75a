"""A subject access request gathers what is held about one victim and redacts everyone
else's names."""

from sqlalchemy import select

from dialogs.case_work import add_action
from dialogs.subject_access import REDACTED, gather, redact
from storage.models import Agency, Case, CaseStatus
from tests.store.referral_factory import accept, card_payload, refer, seeded


def test_redaction_takes_out_whole_names_in_any_case():
    assert redact("Quillon told quillon's friend; Quillonson stays", {"Quillon"}) == (
        f"{REDACTED} told {REDACTED}'s friend; Quillonson stays")


async def test_everything_held_about_a_victim_comes_back_with_others_redacted(store, clock):
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
    async with store.unit_of_work() as session:
        held = await gather(session, marac_id, "vr-sar-1 ")  # matched however it is typed
        nothing = await gather(session, marac_id, "VR-NOBODY")
    assert nothing.referrals == ()
    (referral,) = held.referrals
    assert referral.case is not None and referral.status == "accepted"
    text = " ".join(referral.case.actions)
    assert "Quillon" not in text and "Priya" not in text and REDACTED in text
