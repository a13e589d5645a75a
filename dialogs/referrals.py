"""Referral intake: the form as submitted, checked field by field, then scored against the
high-risk criteria and stored. Refusals raise ReferralError with one plain sentence and
leave nothing behind (the caller's unit of work rolls back)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import first_names
from dialogs.criteria import Assessment, CriteriaError, Decision, assess
from dialogs.dash import QUESTION_COUNT, Answer, ChecklistError, check_answers, yes_count
from dialogs.refusal import Refusal
from dialogs.victim_voice import VoiceError, read_voice, voice_lines
from dialogs.working_days import Nation, WorkingCalendar
from storage.crypto import blind_index
from storage.models import (
    Agency,
    Case,
    Marac,
    Meeting,
    Referral,
    ReferralSource,
    ReferralStatus,
    Transfer,
    TransferDelivery,
)

AGE_BANDS = ("16-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")
# The equality profile of the SafeLives data return: each optional, each from its list.
EQUALITY: dict[str, tuple[str, tuple[str, ...]]] = {
    "victim_gender": ("the victim's gender", ("Female", "Male", "Other")),
    "victim_ethnicity": ("the victim's ethnicity", (
        "White", "Asian or Asian British", "Black or Black British", "Mixed",
        "Other ethnic group")),
    "victim_disability": ("whether the victim has a disability", ("Yes", "No")),
    "victim_sexual_orientation": ("the victim's sexual orientation", (
        "Heterosexual", "Lesbian, gay or bisexual", "Other")),
}
OPEN_STATUSES = (ReferralStatus.PENDING, ReferralStatus.NEEDS_INFORMATION,
                 ReferralStatus.POSSIBLE_DUPLICATE, ReferralStatus.ACCEPTED)
_TRUE = ("true", "yes", "y", "1")
_FALSE = ("false", "no", "n", "0", "")


class ReferralError(Refusal):
    """A referral that cannot be taken; str() is the one sentence the referrer sees."""


@dataclass(frozen=True)
class ReferralForm:
    victim_first_name: str
    victim_reference: str
    victim_age_band: str
    children_in_household: int
    perpetrator_first_name: str
    referring_agency: str
    referrer_name: str
    incident_date: date
    received_on: date
    area: str
    honour_based_violence: bool
    dash_yes_count: int
    dash_answers: dict[str, Answer] = field(default_factory=dict)
    escalation: bool = False
    escalation_detail: str = ""
    professional_judgement: bool = False
    rationale: str = ""
    police_incident_ref: str | None = None
    equality: dict[str, str] = field(default_factory=dict)  # only the fields given
    victim_voice: dict[str, str] = field(default_factory=dict)  # only the fields given


def read_form(raw: Mapping[str, object], today: date) -> ReferralForm:
    """A referral card's inputs (or a police-feed row) as a checked form."""
    answers = _answers(raw)
    first_name = _name(raw, "victim_first_name", "the victim's first name")
    reference = _text(raw, "victim_reference", "the victim's reference", 100)
    if first_name.casefold() in reference.casefold():
        raise ReferralError("The victim's reference must not contain their name.")
    incident = _date(raw, "incident_date", "the incident date", today)
    received = _date(raw, "received_on", "the date received", today)
    if incident > received:
        raise ReferralError("The incident date cannot be after the date the referral was "
                            "received.")
    return ReferralForm(
        victim_first_name=first_name,
        victim_reference=reference,
        victim_age_band=_choice(raw, "victim_age_band", "the victim's age band", AGE_BANDS),
        children_in_household=_count(raw, "children_in_household",
                                     "the number of children in the household", 20),
        perpetrator_first_name=_name(raw, "perpetrator_first_name",
                                     "the perpetrator's first name"),
        referring_agency=_text(raw, "referring_agency", "the referring agency", 200),
        referrer_name=_text(raw, "referrer_name", "the referrer's name", 200),
        incident_date=incident,
        received_on=received,
        area=_text(raw, "area", "the area", 200),
        honour_based_violence=_flag(raw, "honour_based_violence", "honour-based violence"),
        dash_answers=answers or {},
        dash_yes_count=yes_count(answers) if answers is not None else _count(
            raw, "dash_yes_count", "the DASH yes-count", QUESTION_COUNT, required=True),
        escalation=_flag(raw, "escalation", "escalation"),
        escalation_detail=_optional(raw, "escalation_detail", 2000),
        professional_judgement=_flag(raw, "professional_judgement", "professional judgement"),
        rationale=_optional(raw, "rationale", 4000),
        police_incident_ref=_optional(raw, "police_incident_ref", 64) or None,
        equality={key: _choice(raw, key, label, choices)
                  for key, (label, choices) in EQUALITY.items() if raw.get(key)},
        victim_voice=_voice(raw),
    )


def _voice(raw: Mapping[str, object]) -> dict[str, str]:
    try:
        return read_voice(raw)
    except VoiceError as error:
        raise ReferralError(str(error)) from error


def _answers(raw: Mapping[str, object]) -> dict[str, Answer] | None:
    given = {k: v for k, v in raw.items() if k.startswith("q") and k[1:3].isdigit()}
    if not given:
        return None
    try:
        return check_answers(given)
    except ChecklistError as error:
        raise ReferralError(str(error)) from error


def _text(raw: Mapping[str, object], key: str, label: str, limit: int) -> str:
    value = raw.get(key)
    if not isinstance(value, str | int) or not str(value).strip():
        raise ReferralError(f"Please give {label}.")
    text = " ".join(str(value).split())
    if len(text) > limit:
        raise ReferralError(f"{label[0].upper()}{label[1:]} is longer than {limit} characters.")
    return text


def _optional(raw: Mapping[str, object], key: str, limit: int) -> str:
    return _text(raw, key, key.replace("_", " "), limit) if raw.get(key) else ""


def _name(raw: Mapping[str, object], key: str, label: str) -> str:
    name = _text(raw, key, label, 40)
    if not first_names.is_first_name(name):
        raise ReferralError(first_names.refusal(label))
    return name


def _choice(raw: Mapping[str, object], key: str, label: str, choices: tuple[str, ...]) -> str:
    value = _text(raw, key, label, 40)
    if value not in choices:
        raise ReferralError(f"{label[0].upper()}{label[1:]} must be one of {', '.join(choices)}.")
    return value


def _count(raw: Mapping[str, object], key: str, label: str, most: int,
           required: bool = False) -> int:
    value = str(raw.get(key, "") or "").strip()
    if not value:
        if required:
            raise ReferralError(f"Please give {label}: answer the DASH checklist.")
        value = "0"
    if not value.isdigit() or int(value) > most:
        raise ReferralError(f"{label[0].upper()}{label[1:]} must be a whole number from 0 "
                            f"to {most}.")
    return int(value)


def _flag(raw: Mapping[str, object], key: str, label: str) -> bool:
    value = raw.get(key, "")
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ReferralError(f"Answer yes or no for {label}.")


def _date(raw: Mapping[str, object], key: str, label: str, today: date) -> date:
    value = _text(raw, key, label, 10)
    try:
        day = date.fromisoformat(value)
    except ValueError as error:
        raise ReferralError(f"{label[0].upper()}{label[1:]} must be a date like 2026-11-24, "
                            f"not {value!r}.") from error
    if day > today:
        raise ReferralError(f"{label[0].upper()}{label[1:]} cannot be in the future.")
    return day


@dataclass(frozen=True)
class ReferralSummary:
    """A referral as its cards show it (the referrer's summary, a line of the triage card)."""

    id: int
    victim_first_name: str
    victim_reference: str
    received_on: date
    agency: str
    dash_yes_count: int
    qualifying_reasons: tuple[str, ...]
    status: str
    risk_level: str
    decision_explanation: str
    triage_note: str
    closed_panel: bool  # honour-based violence is heard in a closed panel
    duplicate_of_reference: str | None = None
    information_answer: str = ""  # the referrer's answer to the question triage asked
    victim_voice: tuple[tuple[str, str], ...] = ()  # (label, answer) of each given


def summary_of(referral: Referral, agency: str, duplicate_of_reference: str | None = None
               ) -> ReferralSummary:
    return ReferralSummary(
        referral.id, referral.victim_first_name, referral.victim_reference,
        referral.received_on, agency, referral.dash_yes_count,
        tuple(referral.qualifying_reasons or ()), referral.status.value,
        referral.risk_level, referral.decision_explanation, referral.triage_note or "",
        referral.honour_based_violence, duplicate_of_reference,
        referral.information_answer or "", tuple(voice_lines(referral.victim_voice)))


@dataclass(frozen=True)
class Submission:
    referral: Referral
    decision: Decision
    duplicate_of: Referral | None


async def submitted_from(session: AsyncSession, source_message_id: str) -> Referral | None:
    return await session.scalar(
        select(Referral).where(Referral.source_message_id == source_message_id))


async def submit(session: AsyncSession, marac: Marac, form: ReferralForm,
                 referred_by_person_id: int | None, now: datetime,
                 source: ReferralSource = ReferralSource.CARD,
                 source_message_id: str | None = None) -> Submission:
    """Score and store a referral: pending triage when it meets the criteria, declined with
    its reason when it does not, or held as a possible duplicate of an open one."""
    agency = await _agency(session, marac.id, form.referring_agency)
    earlier = await last_heard(session, marac.id, form.victim_reference)
    decision = _assess(form, marac, earlier[1] if earlier else None)
    duplicate = (await _open_referral_in_window(session, marac, form, now) if decision.heard
                 else None)
    status = (ReferralStatus.DECLINED if not decision.heard
              else ReferralStatus.POSSIBLE_DUPLICATE if duplicate
              else ReferralStatus.PENDING)
    referral = Referral(
        marac_id=marac.id, source=source, source_message_id=source_message_id,
        police_incident_ref=form.police_incident_ref,
        police_incident_index=(blind_index(form.police_incident_ref)
                               if form.police_incident_ref else None),
        victim_first_name=form.victim_first_name, victim_reference=form.victim_reference,
        victim_index=blind_index(form.victim_reference),
        victim_age_band=form.victim_age_band, children_in_household=form.children_in_household,
        perpetrator_first_name=form.perpetrator_first_name, referring_agency_id=agency.id,
        referrer_name=form.referrer_name, referred_by_person_id=referred_by_person_id,
        incident_date=form.incident_date, received_on=form.received_on, area=form.area,
        honour_based_violence=form.honour_based_violence,
        dash_answers={k: v.value for k, v in form.dash_answers.items()},
        dash_yes_count=form.dash_yes_count, escalation=form.escalation,
        escalation_detail=form.escalation_detail,
        professional_judgement=form.professional_judgement, rationale=form.rationale,
        risk_level=decision.risk_level.value,
        qualifying_reasons=[reason.value for reason in decision.reasons],
        decision_explanation=decision.explanation,
        repeat_of_id=earlier[0].id if earlier and "repeat" in decision.reasons else None,
        duplicate_of_id=duplicate.id if duplicate else None,
        status=status, created_at=now, updated_at=now, **form.equality,
        victim_voice=form.victim_voice or None,
    )
    session.add(referral)
    await session.flush()
    return Submission(referral, decision, duplicate)


def _assess(form: ReferralForm, marac: Marac, last_hearing: date | None) -> Decision:
    try:
        return assess(
            Assessment(
                yes_count=form.dash_yes_count, incident_date=form.incident_date,
                escalation=form.escalation, escalation_detail=form.escalation_detail,
                professional_judgement=form.professional_judgement, rationale=form.rationale,
                last_hearing=last_hearing,
            ),
            threshold=marac.high_risk_threshold, repeat_months=marac.repeat_months,
        )
    except CriteriaError as error:
        raise ReferralError(str(error)) from error


async def _agency(session: AsyncSession, marac_id: int, name: str) -> Agency:
    agency = await session.scalar(
        select(Agency).where(Agency.marac_id == marac_id, Agency.name == name)
    )
    if agency is None and name.isdigit():
        agency = await session.scalar(
            select(Agency).where(Agency.marac_id == marac_id, Agency.id == int(name))
        )
    if agency is None:
        raise ReferralError(f"'{name}' is not one of this MARAC's agencies.")
    return agency


async def last_heard(session: AsyncSession, marac_id: int, victim_reference: str
                     ) -> tuple[Referral, date] | None:
    """The victim's latest hearing at this MARAC, or at a MARAC that transferred the victim
    here (its plans count for the repeat rule): the referral and its meeting's date."""
    transferred_in = select(Transfer.from_referral_id).where(
        Transfer.to_marac_id == marac_id, Transfer.delivery != TransferDelivery.WITHHELD)
    row = (await session.execute(
        select(Referral, Meeting.starts_at, Marac.timezone)
        .join(Case, Case.referral_id == Referral.id)
        .join(Meeting, Meeting.id == Case.meeting_id)
        .join(Marac, Marac.id == Referral.marac_id)
        .where(or_(Referral.marac_id == marac_id, Referral.id.in_(transferred_in)),
               Referral.victim_index == blind_index(victim_reference))
        .order_by(Meeting.starts_at.desc())
        .limit(1)
    )).first()
    if row is None:
        return None
    referral, starts_at, timezone = row
    return referral, starts_at.astimezone(ZoneInfo(timezone)).date()


async def _open_referral_in_window(session: AsyncSession, marac: Marac, form: ReferralForm,
                                   now: datetime) -> Referral | None:
    """An open referral for the same victim received within one scheduling window of this
    one: probably the same matter reported twice (002, police feed cleansing). One already
    heard is not open: a new incident after a hearing is a repeat, not a duplicate."""
    calendar = WorkingCalendar(Nation(marac.bank_holidays))
    heard = select(Case.referral_id).join(Meeting, Meeting.id == Case.meeting_id).where(
        Meeting.starts_at <= now, Case.referral_id.is_not(None))
    candidates = (await session.scalars(
        select(Referral).where(
            Referral.marac_id == marac.id,
            Referral.victim_index == blind_index(form.victim_reference),
            Referral.status.in_(OPEN_STATUSES),
            Referral.id.not_in(heard),
        ).order_by(Referral.received_on)
    )).all()
    for earlier in candidates:
        first, last = sorted((earlier.received_on, form.received_on))
        if calendar.between(first, last) <= marac.latest_working_days:
            return earlier
    return None
