"""`triage` and its buttons: accept, decline, ask for more, and settle possible duplicates.
Each answers with the refreshed triage card, saying what was done or why not; pressing the
same button twice does nothing twice. The referrer is told each decision in their personal
chat, through the outbox, and answers "needs more information" on the card they are sent."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from adaptive_cards.card import AdaptiveCard

from bot.proactive import outbox
from bot.turns.press import InvokeAnswer, Press, card_answer, message_answer
from bot.turns.registry import PERSONAL_ONLY, REFERRERS, TRIAGERS, button, command
from bot.turns.replies import Message, card_reply
from bot.turns.request import Request
from bot.views.referrals import triage_view
from cards.triage import accepted_notice, answered_card, declined_notice, question_card
from dialogs import triage
from dialogs.ids import row_id
from dialogs.refusal import Refusal
from dialogs.triage import TriageError, TriageOutcome
from storage.models import Marac


def _referral_id(press: Press) -> int:
    referral_id = row_id(press.data.get("referral_id"))
    if referral_id is None:
        raise TriageError("That button does not name a referral.")
    return referral_id


def _tell_referrer(press: Press, outcome: TriageOutcome, card: AdaptiveCard) -> None:
    if outcome.tell is not None:
        summary = "Your referral: the triage decision"
        outbox.enqueue(press.session, card_reply(card, summary), "referral decision",
                       press.clock.now(), person_id=outcome.tell)


def _note(press: Press) -> str:
    value = press.data.get(f"note_{_referral_id(press)}", "")
    return value.strip()[:500] if isinstance(value, str) else ""


@command("triage", "Accept, decline or query the referrals waiting for triage.", "triage",
         roles=TRIAGERS, places=PERSONAL_ONLY)
async def _triage(request: Request) -> Message:
    return card_reply(await triage_view(request.session, request.marac_id), "Triage")


async def _triage_again(press: Press, note: str | Refusal) -> InvokeAnswer:
    """The triage card again, with what was done or why it was not."""
    return card_answer(await triage_view(press.session, press.marac_id, str(note)))


@button("triage.accept", "Accept a referral: it is listed at a meeting.", roles=TRIAGERS,
        places=PERSONAL_ONLY, refused=_triage_again)
async def _accept(press: Press) -> InvokeAnswer:
    referral_id = _referral_id(press)
    outcome = await triage.accept(press.session, press.marac_id, referral_id, press.person_id,
                                  press.clock.now())
    placement = outcome.placement
    if placement is None:
        return await _triage_again(press, "That referral was already accepted.")
    marac = await press.session.get_one(Marac, press.marac_id)
    local = ZoneInfo(marac.timezone)
    when = placement.meeting.starts_at.astimezone(local)
    slot_at = outcome.slot_starts_at.astimezone(local) if outcome.slot_starts_at else None
    _tell_referrer(press, outcome, accepted_notice(
        outcome.referral.victim_reference, placement.case.victim_first_name, when, slot_at))
    listed = (f"Accepted: {placement.case.victim_first_name} is listed as "
              f"{placement.case.number} for the meeting on {when:%A %d %B at %H:%M}.")
    if placement.breaches_target:
        listed += (f" No meeting within {marac.latest_working_days} working days had a free "
                   "slot, so this case breaches the 14-working-day target.")
    return await _triage_again(press, "Already accepted: " + listed.removeprefix("Accepted: ")
                               if outcome.already_decided else listed)


@button("triage.decline", "Decline a referral, with the reason.", roles=TRIAGERS,
        places=PERSONAL_ONLY, refused=_triage_again)
async def _decline(press: Press) -> InvokeAnswer:
    referral_id = _referral_id(press)
    outcome = await triage.decline(press.session, press.marac_id, referral_id, press.person_id,
                                   _note(press), press.clock.now())
    referral = outcome.referral
    _tell_referrer(press, outcome, declined_notice(
        referral.victim_reference, referral.victim_first_name, referral.triage_note))
    return await _triage_again(press, f"Declined referral {outcome.referral.victim_reference}: "
                                      f"{outcome.referral.triage_note}")


@button("triage.more", "Ask for more information on a referral.", roles=TRIAGERS,
        places=PERSONAL_ONLY, refused=_triage_again)
async def _more(press: Press) -> InvokeAnswer:
    referral_id = _referral_id(press)
    outcome = await triage.needs_information(press.session, press.marac_id, referral_id,
                                             press.person_id, _note(press), press.clock.now())
    referral = outcome.referral
    _tell_referrer(press, outcome, question_card(
        referral.id, referral.victim_reference, referral.victim_first_name,
        referral.triage_note))
    return await _triage_again(
        press, f"Asked for more information on {outcome.referral.victim_reference}.")


async def _ask_again(press: Press, refusal: Refusal) -> InvokeAnswer:
    """The question card again, saying why the answer was not taken."""
    referral = await triage.question_for(press.session, press.marac_id,
                                         row_id(press.data.get("referral_id")), press.person_id)
    if referral is None:
        return message_answer(str(refusal))
    return card_answer(question_card(referral.id, referral.victim_reference,
                                     referral.victim_first_name, referral.triage_note,
                                     str(refusal)))


@button("triage.answer", "Answer triage's question on your referral: it goes back to triage.",
        roles=REFERRERS, places=PERSONAL_ONLY, refused=_ask_again)
async def _answer(press: Press) -> InvokeAnswer:
    answer = press.data.get("answer", "")
    outcome = await triage.answer_information(
        press.session, press.marac_id, _referral_id(press), press.person_id,
        answer[:2000] if isinstance(answer, str) else "", press.clock.now())
    return card_answer(answered_card(outcome.referral.victim_reference))


@button("triage.same", "Confirm a possible duplicate as the same matter.", roles=TRIAGERS,
        places=PERSONAL_ONLY, refused=_triage_again)
async def _same(press: Press) -> InvokeAnswer:
    referral_id = _referral_id(press)
    outcome = await triage.confirm_duplicate(press.session, press.marac_id, referral_id,
                                             press.person_id, press.clock.now())
    return await _triage_again(
        press, f"Linked {outcome.referral.victim_reference} to the referral it repeats.")


@button("triage.separate", "Keep a possible duplicate as a separate referral.", roles=TRIAGERS,
        places=PERSONAL_ONLY, refused=_triage_again)
async def _separate(press: Press) -> InvokeAnswer:
    referral_id = _referral_id(press)
    outcome = await triage.split_duplicate(press.session, press.marac_id, referral_id,
                                           press.person_id, press.clock.now())
    return await _triage_again(
        press, f"Kept {outcome.referral.victim_reference} as a separate referral for triage.")
