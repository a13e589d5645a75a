"""Research before the meeting: from the case list a representative opens a case's research
card in their personal chat and returns their agency's research on it (dialogs.research).
Observers hold no representative's role, so they never get a research card."""

from __future__ import annotations

from bot.turns.press import InvokeAnswer, Press, card_answer, message_answer
from bot.turns.registry import PERSONAL_ONLY, REPRESENTATIVES, button
from cards.research import research_card
from dialogs import research
from dialogs.refusal import Refusal
from storage.models import Marac


async def _card(press: Press, form: research.ResearchForm, note: str | None = None
                ) -> InvokeAnswer:
    marac = await press.session.get_one(Marac, press.marac_id)
    return card_answer(research_card(form, marac.timezone, note))


async def _form_again(press: Press, refusal: Refusal) -> InvokeAnswer:
    """The research card again, saying why it was not taken; the reason alone when the card
    itself may not be shown."""
    try:
        form = await research.form(press.session, press.marac_id, press.person_id,
                                   press.context.actor.roles, press.data.get("case"),
                                   press.clock.now())
    except Refusal:
        return message_answer(str(refusal))
    return await _card(press, form, str(refusal))


@button("research.open", "Open a case's research card, to return your agency's research.",
        roles=REPRESENTATIVES, places=PERSONAL_ONLY)
async def _open(press: Press) -> InvokeAnswer:
    return await _card(press, await research.form(
        press.session, press.marac_id, press.person_id, press.context.actor.roles,
        press.data.get("case"), press.clock.now()))


@button("research.send", "Return your agency's research on a case before the meeting.",
        roles=REPRESENTATIVES, places=PERSONAL_ONLY, refused=_form_again)
async def _send(press: Press) -> InvokeAnswer:
    form = await research.return_research(
        press.session, press.marac_id, press.person_id, press.context.actor.roles,
        press.data.get("case"), press.data, press.clock.now())
    late = form.information is not None and form.information.late
    return await _card(press, form, "Research sent, after the deadline: marked late."
                       if late else "Research sent on time.")
