"""`refer` and the referral card's buttons: count the DASH answers so far, and submit."""

from __future__ import annotations

from bot.turns.press import InvokeAnswer, Press, card_answer
from bot.turns.registry import PERSONAL_ONLY, REFERRERS, button, command
from bot.turns.replies import Message, card_reply
from bot.turns.request import Request
from bot.views.referrals import referral_form, referral_summary
from dialogs.dash import BY_KEY, Answer
from dialogs.referrals import read_form, submit, submitted_from
from dialogs.refusal import Refusal
from dialogs.scheduling import local_today
from storage.database import lock_marac


@command("refer", "Refer a case: the referral card with the DASH checklist.", "refer",
         roles=REFERRERS, places=PERSONAL_ONLY, checks_first=True)
async def _refer(request: Request) -> Message:
    return card_reply(await referral_form(request.session, request.marac_id,
                                          request.context.actor, request.clock.now()),
                      "Referral form")


@button("referral.count", "Count the yes answers so far.", roles=REFERRERS,
        places=PERSONAL_ONLY, checks_first=True)
async def _count(press: Press) -> InvokeAnswer:
    answers = [press.data.get(key) for key in BY_KEY]
    yes = sum(1 for answer in answers if answer == Answer.YES.value)
    return card_answer(await referral_form(press.session, press.marac_id, press.context.actor,
                                           press.clock.now(), press.data, yes))


async def _form_again(press: Press, problem: Refusal) -> InvokeAnswer:
    """A submission refused: the form as it was filled in, with what to put right."""
    return card_answer(await referral_form(press.session, press.marac_id, press.context.actor,
                                           press.clock.now(), press.data, problem=str(problem)))


@button("referral.submit", "Submit a referral.", roles=REFERRERS, places=PERSONAL_ONLY,
        refused=_form_again)
async def _submit(press: Press) -> InvokeAnswer:
    session, now = press.session, press.clock.now()
    # Submits queue up per MARAC, so a double-click finds the first submission's referral.
    marac = await lock_marac(session, press.marac_id)
    card_key = f"{press.arrival.conversation_id}:{press.message_id}" if press.message_id else None
    if card_key and (done := await submitted_from(session, card_key)):
        return card_answer(await referral_summary(session, done))
    form = read_form(press.data, local_today(marac, now))
    submission = await submit(session, marac, form, press.person_id, now,
                              source_message_id=card_key)
    return card_answer(await referral_summary(session, submission.referral))
