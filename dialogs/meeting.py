"""Running the meeting: the chair opens it, moves through the agenda case by case, each case
in its slot; the slot clock, pauses and warnings live in the database (../shared/MARAC.md,
"At the meeting")."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    BindParameter,
    Select,
    Text,
    and_,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy import case as sql_case
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, load_only

from dialogs.referrals import EQUALITY
from dialogs.refusal import Refusal
from dialogs.scheduling import move_to_next_meeting
from storage.crypto import keyring
from storage.database import core
from storage.models import (
    ActionOrigin,
    Agency,
    AgencyInformation,
    Attendance,
    AttendanceRole,
    Case,
    CaseStatus,
    ConflictDeclaration,
    Marac,
    Meeting,
    MeetingStatus,
    Person,
    PlannedAction,
    Referral,
)

NOT_STARTED = (MeetingStatus.SCHEDULED,)
UNDER_WAY = (MeetingStatus.RUNNING, MeetingStatus.PAUSED)
EXCEPTIONS = {"death": "death of the victim or perpetrator",
              "moved": "the victim has moved out of the area (MARAC-to-MARAC transfer)"}


class MeetingError(Refusal):
    """What the chair asked cannot be done now; str() is one plain sentence."""


@dataclass(frozen=True)
class Slot:
    """A case's slot clock: what is left of it, in seconds (negative once overrun)."""

    length: int
    remaining: int

    @property
    def overrun(self) -> int:
        return max(0, -self.remaining)


def slot_of(marac: Marac | SlotRules, meeting: Meeting | MeetingToAdvance,
            case: Case | CaseToAdvance, now: datetime) -> Slot:
    length = marac.slot_seconds + case.extra_seconds
    if case.opened_at is None:
        return Slot(length, length)
    end = case.closed_at or (meeting.paused_at if meeting.paused_at else now)
    used = (end - case.opened_at).total_seconds() - case.paused_seconds
    # Rounded up: a slot is over when all of it is used, not a fraction of a second before.
    return Slot(length, math.ceil(length - used))


async def under_way_in(session: AsyncSession, conversation_id: str,
                       marac_id: int | None = None) -> Meeting | None:
    """The meeting running in this conversation; with `marac_id`, only if it is that MARAC's
    (a forged envelope naming another MARAC's conversation finds none)."""
    mine = () if marac_id is None else (Meeting.marac_id == marac_id,)
    return await session.scalar(
        select(Meeting).where(Meeting.conversation_id == conversation_id,
                              Meeting.status.in_(UNDER_WAY), *mine).with_for_update())


async def must_be_under_way(session: AsyncSession, conversation_id: str,
                            marac_id: int | None = None) -> Meeting:
    meeting = await under_way_in(session, conversation_id, marac_id)
    if meeting is None:
        raise MeetingError("No meeting is running here; the chair starts one with **start**.")
    return meeting


class CaseAtMeeting(NamedTuple):
    """A case pressed on at the meeting running here, with what a press on it needs."""

    meeting: Meeting
    marac: Marac
    case: Case
    referral: Referral | None  # only what the full case view shows of it
    presser_agency: int | None  # the agency the person pressing represents, on record


# What the full case view, the answer to a press on the case, shows of the victim: their
# voice and equality profile (cards.meeting); nothing else of the referral is read.
FULL_VIEW_OF_REFERRAL = (Referral.victim_voice, Referral.victim_age_band,
                         *(getattr(Referral, key) for key in EQUALITY))


def _case_at_meeting(lock: dict[str, Any] | None) -> Select[Any]:
    """The case by number at the meeting under way here, its MARAC, its referral and the
    presser's agency in one statement; `lock` is the case row's lock (FOR SHARE to add to
    the case, FOR NO KEY UPDATE to change it), so presses on different cases never wait
    for each other and identical presses on the same case do not queue behind a
    meeting-wide lock."""
    statement = (
        select(Meeting, Marac, Case, Referral,
               select(Person.agency_id).where(Person.id == bindparam("person"))
               .scalar_subquery().label("presser_agency"))
        .select_from(Meeting).join(Marac, Marac.id == Meeting.marac_id)
        .join(Case, Case.meeting_id == Meeting.id)
        .outerjoin(Referral, Referral.id == Case.referral_id)
        .where(Meeting.conversation_id == bindparam("place"),
               Meeting.marac_id == bindparam("marac"), Meeting.status.in_(UNDER_WAY),
               Case.number == bindparam("number"))
        .options(load_only(Referral.qualifying_reasons, Referral.dash_yes_count,
                           Referral.repeat_of_id, Referral.children_in_household,
                           Referral.dash_answers, *FULL_VIEW_OF_REFERRAL)))
    return statement if lock is None else statement.with_for_update(of=Case, **lock)


# Built once: each press binds its values, and SQLAlchemy's compiled cache is hit.
_CASE_READ = _case_at_meeting(None)
_CASE_ADDED_TO = _case_at_meeting({"read": True})
_CASE_CHANGED = _case_at_meeting({"key_share": True})
_UNDER_WAY_HERE = select(exists().where(
    Meeting.conversation_id == bindparam("place"), Meeting.marac_id == bindparam("marac"),
    Meeting.status.in_(UNDER_WAY)))


async def case_at_meeting(session: AsyncSession, place: str, marac_id: int | None,
                          number: str, person_id: int | None, *, lock: str | None = None
                          ) -> CaseAtMeeting:
    """`lock`: None to read, "add" to add to the case, "change" to change the case row."""
    statement = {None: _CASE_READ, "add": _CASE_ADDED_TO, "change": _CASE_CHANGED}[lock]
    row = (await session.execute(statement, {"place": place, "marac": marac_id,
                                             "number": number, "person": person_id})).first()
    if row is not None:
        return CaseAtMeeting(*row)
    if not await session.scalar(_UNDER_WAY_HERE, {"place": place, "marac": marac_id}):
        raise MeetingError("No meeting is running here; the chair starts one with **start**.")
    raise MeetingError("That case is not on this meeting's agenda.")


class MeetingHere(NamedTuple):
    meeting: Meeting
    marac: Marac
    presser_agency: int | None  # the agency the person pressing represents, on record
    numbers: list[str]  # the agenda's case numbers, in order


_PRESSER_AGENCY = (select(Person.agency_id).where(Person.id == bindparam("person"))
                   .scalar_subquery().label("presser_agency"))
# FOR SHARE: presses at the meeting (attendance) go side by side; `next`, `end` and the
# chair's other commands, which lock the meeting for update, wait for them and they for it.
# One row per case on the agenda: its number only, nothing decrypted.
_MEETING_HERE = (
    select(Meeting, Marac, _PRESSER_AGENCY, Case.number).select_from(Meeting)
    .join(Marac, Marac.id == Meeting.marac_id)
    .outerjoin(Case, Case.meeting_id == Meeting.id)
    .where(Meeting.conversation_id == bindparam("place"),
           Meeting.marac_id == bindparam("marac"), Meeting.status.in_(UNDER_WAY))
    .order_by(Case.closed_panel, Case.slot)
    .with_for_update(of=Meeting, read=True))


async def meeting_here(session: AsyncSession, place: str, marac_id: int | None,
                       person_id: int | None) -> MeetingHere:
    """The meeting under way here, its MARAC, the presser's agency and the agenda's case
    numbers, in one statement."""
    rows = (await session.execute(_MEETING_HERE, {"place": place, "marac": marac_id,
                                                  "person": person_id})).all()
    if not rows:
        raise MeetingError("No meeting is running here; the chair starts one with **start**.")
    meeting, marac, presser_agency, _ = rows[0]
    return MeetingHere(meeting, marac, presser_agency,
                       [row.number for row in rows if row.number is not None])


_CONFIRM = text(
    "INSERT INTO attendance (meeting_id, person_id, agency_id, role, confirmed_at) "
    "VALUES (:meeting_id, :person_id, :agency_id, :role, :confirmed_at) "
    "ON CONFLICT (meeting_id, person_id) DO UPDATE "
    "SET role = excluded.role, agency_id = excluded.agency_id "
    "WHERE attendance.role IS DISTINCT FROM excluded.role "
    "OR attendance.agency_id IS DISTINCT FROM excluded.agency_id"
).bindparams(*(bindparam(name, type_=Attendance.__table__.c[name].type)
               for name in ("meeting_id", "person_id", "agency_id", "role", "confirmed_at")))


async def confirm_attendance_once(session: AsyncSession, meeting_id: int, person_id: int,
                                  role: AttendanceRole, agency_id: int | None, now: datetime
                                  ) -> bool:
    """confirm_attendance in one statement, by the (meeting, person) constraint: False when
    it was confirmed already just so (nothing changed, so no card needs refreshing)."""
    changed = await core(session, _CONFIRM, {
        "meeting_id": meeting_id, "person_id": person_id, "agency_id": agency_id,
        "role": role, "confirmed_at": now})
    return bool(changed.rowcount)


@dataclass(frozen=True)
class MeetingToAdvance:
    """What `next` reads of the meeting: whose it is, whether it is paused, and since when."""

    id: int
    marac_id: int
    status: MeetingStatus
    paused_at: datetime | None


@dataclass(frozen=True)
class SlotRules:
    """What `next` reads of the MARAC: its slot length, for the opened case's clock."""

    id: int
    slot_seconds: int


# `next`: the meeting (locked: one chair's command at a time), what it needs of its MARAC,
# and who is present (for the plan's collective responsibility), in one statement of
# columns, run through Core: no ORM rows to load.
_FOR_NEXT = (
    select(Meeting.id, Meeting.status, Meeting.paused_at, Marac.id.label("marac_id"),
           Marac.slot_seconds, Attendance.role, Person.first_name,
           Agency.name.label("agency"))
    .select_from(Meeting).join(Marac, Marac.id == Meeting.marac_id)
    .outerjoin(Attendance, Attendance.meeting_id == Meeting.id)
    .outerjoin(Person, Person.id == Attendance.person_id)
    .outerjoin(Agency, Agency.id == Attendance.agency_id)
    .where(Meeting.conversation_id == bindparam("place"),
           Meeting.marac_id == bindparam("marac"), Meeting.status.in_(UNDER_WAY))
    .order_by(Attendance.confirmed_at).with_for_update(of=Meeting))


async def meeting_with_responsible(session: AsyncSession, place: str, marac_id: int | None
                                   ) -> tuple[MeetingToAdvance, SlotRules, list[str]]:
    rows = (await core(session, _FOR_NEXT, {"place": place, "marac": marac_id})).all()
    if not rows:
        raise MeetingError("No meeting is running here; the chair starts one with **start**.")
    first = rows[0]
    return (MeetingToAdvance(first.id, first.marac_id, first.status, first.paused_at),
            SlotRules(first.marac_id, first.slot_seconds), [
                f"{row.first_name} ({row.agency or row.role.value})" for row in rows
                if row.role is not None and row.role is not AttendanceRole.OBSERVER])


@dataclass(frozen=True)
class CaseToAdvance:
    """What `next` reads of the open case and of the next one listed: the columns its checks,
    its slot clock and the opened case's card need, not whole rows. Of the encrypted ones,
    only the open case's victim contact (it must be named) and the listed case's first name
    (its card shows it) are read; the other is None."""

    id: int
    number: str
    status: CaseStatus
    victim_first_name: str | None
    victim_contact: str | None
    exceptional: str
    declaration_pending: bool
    extra_seconds: int
    paused_seconds: int
    opened_at: datetime | None
    closed_at: datetime | None
    card: CardCounts | None = None  # the listed case's card's figures, read with it


@dataclass(frozen=True)
class CardCounts:
    """A case card's agencies (for its action's owner) and figures, as
    dialogs.case_work.card_counts reads them."""

    agencies: list[str]
    shared: int
    agreed: int
    before_meeting: int


class ToAdvance(NamedTuple):
    open: CaseToAdvance | None
    following: CaseToAdvance | None  # the next case listed
    silent: list[str]  # core agencies the open case cannot close without (002)


_IS_OPEN, _IS_LISTED = Case.status == CaseStatus.OPEN, Case.status == CaseStatus.LISTED
_SHARED = aliased(AgencyInformation)
# A core agency that shared information on the open case and has no action of its own.
_SILENT = and_(_IS_OPEN, Agency.is_core, exists().where(
    _SHARED.case_id == Case.id, _SHARED.agency_id == Agency.id,
    _SHARED.not_involved.is_(False),
    ~exists().where(PlannedAction.case_id == Case.id,
                    PlannedAction.owning_agency_id == Agency.id,
                    PlannedAction.origin != ActionOrigin.EARLIER_PLAN)
    .correlate(Case, Agency)).correlate(Case, Agency))
_AGREED = (select(func.count()).select_from(PlannedAction)
           .where(PlannedAction.case_id == Case.id,
                  PlannedAction.origin == ActionOrigin.MEETING).scalar_subquery())
# The open case and the next one listed (not the whole agenda) in one statement of columns,
# run through Core (no ORM rows to load, nothing decrypted that is not used): for the open
# case, one row per core agency that shared information and has no action of its own (with
# its reason, if it gave one); for the next one, one row per agency of the MARAC, with what
# it shared, and the actions agreed: its card's figures.
_TO_ADVANCE = (
    select(Case.id, Case.number, Case.status,
           # As stored: decrypted once a case below, not once a row.
           sql_case((_IS_LISTED, type_coerce(Case.victim_first_name, Text)))
           .label("victim_first_name"),
           sql_case((_IS_OPEN, type_coerce(Case.victim_contact, Text))).label("victim_contact"),
           Case.exceptional, Case.declaration_pending, Case.extra_seconds,
           Case.paused_seconds, Case.opened_at, Case.closed_at,
           Agency.name.label("agency"),
           sql_case((_IS_OPEN, AgencyInformation.no_action_reason)).label("no_action_reason"),
           AgencyInformation.id.label("sent_id"), AgencyInformation.before_meeting,
           _AGREED.label("agreed"))
    .select_from(Case)
    .outerjoin(Agency, and_(Agency.marac_id == bindparam("marac"), or_(_IS_LISTED, _SILENT)))
    .outerjoin(AgencyInformation, and_(AgencyInformation.case_id == Case.id,
                                       AgencyInformation.agency_id == Agency.id))
    .where(Case.meeting_id == bindparam("meeting"), or_(
        _IS_OPEN,
        Case.id == select(Case.id).where(Case.meeting_id == bindparam("meeting"), _IS_LISTED)
        .order_by(Case.closed_panel, Case.slot).limit(1).scalar_subquery()))
    .order_by(Case.id, Agency.id))
_CASE_FIELDS = tuple(f.name for f in fields(CaseToAdvance) if f.name != "card")


async def to_advance(session: AsyncSession, meeting: Meeting | MeetingToAdvance
                     ) -> ToAdvance:
    rows = (await core(session, _TO_ADVANCE, {"meeting": meeting.id,
                                              "marac": meeting.marac_id})).all()
    cases: dict[int, CaseToAdvance] = {}
    for row in rows:  # a row per agency: each case's columns are read from its first
        if row.id not in cases:
            cases[row.id] = CaseToAdvance(**{
                **{name: getattr(row, name) for name in _CASE_FIELDS},
                "victim_first_name": _decrypted(row.victim_first_name),
                "victim_contact": _decrypted(row.victim_contact)})
    opened = next((c for c in cases.values() if c.status is CaseStatus.OPEN), None)
    following = next((c for c in cases.values() if c.status is CaseStatus.LISTED), None)
    silent = sorted({row.agency for row in rows if opened is not None and row.id == opened.id
                     and row.agency is not None and not row.no_action_reason})
    if following is not None:
        agencies = [row for row in rows if row.id == following.id and row.agency is not None]
        shared = [row for row in agencies if row.sent_id is not None]
        agreed = next(row.agreed for row in rows if row.id == following.id)
        following = replace(following, card=CardCounts(
            [row.agency for row in agencies], len(shared), agreed,
            sum(bool(row.before_meeting) for row in shared)))
    return ToAdvance(opened, following, [] if opened and opened.exceptional else silent)


def _decrypted(token: str | None) -> str | None:
    return None if token is None else keyring().decrypt(token)


_CLOSED: BindParameter[int | None] = bindparam("closed")
_OPENED: BindParameter[int | None] = bindparam("opened")
_NOW = bindparam("now", type_=Case.__table__.c.closed_at.type)


def _for(which: BindParameter[Any], value: Any, otherwise: Any) -> Any:
    return sql_case((Case.id == which, value), else_=otherwise)


# `next`'s one write: the open case closed (with who shares responsibility for its plan)
# and the next one opened, its slot clock started afresh, in one statement.
_ADVANCE = (
    update(Case).where(or_(Case.id == _CLOSED, Case.id == _OPENED))
    .values(status=_for(_CLOSED, literal(CaseStatus.CLOSED, Case.__table__.c.status.type),
                        literal(CaseStatus.OPEN, Case.__table__.c.status.type)),
            closed_at=_for(_CLOSED, _NOW, Case.closed_at),
            responsible=_for(_CLOSED, bindparam("responsible",
                                                type_=Case.__table__.c.responsible.type),
                             Case.responsible),
            opened_at=_for(_OPENED, _NOW, Case.opened_at),
            paused_seconds=_for(_OPENED, 0, Case.paused_seconds),
            warned_at=_for(_OPENED, None, Case.warned_at),
            overrun_at=_for(_OPENED, None, Case.overrun_at)))


async def cases_of(session: AsyncSession, meeting: Meeting) -> list[Case]:
    """The agenda in order: the open part, then the closed panel."""
    return list((await session.scalars(
        select(Case).where(Case.meeting_id == meeting.id)
        .order_by(Case.closed_panel, Case.slot))).all())


async def open_case(session: AsyncSession, meeting: Meeting) -> Case | None:
    return await session.scalar(
        select(Case).where(Case.meeting_id == meeting.id, Case.status == CaseStatus.OPEN))


async def start(session: AsyncSession, marac_id: int, conversation_id: str,
                chair_person_id: int | None, now: datetime) -> tuple[Meeting, bool]:
    """Open the MARAC's next meeting here; (meeting, False) when it is already running."""
    running = await under_way_in(session, conversation_id)
    if running is not None:
        return running, False
    elsewhere = await session.scalar(select(Meeting.id).where(
        Meeting.marac_id == marac_id, Meeting.status.in_(UNDER_WAY)))
    if elsewhere is not None:
        raise MeetingError("This MARAC's meeting is already running in another conversation; "
                           "end it there first.")
    meeting = await session.scalar(
        select(Meeting).where(Meeting.marac_id == marac_id, Meeting.status.in_(NOT_STARTED),
                              Meeting.starts_at >= now - timedelta(hours=12))
        .order_by(Meeting.starts_at).limit(1).with_for_update())
    if meeting is None:
        raise MeetingError("There is no meeting scheduled to start.")
    meeting.status = MeetingStatus.RUNNING
    meeting.conversation_id = conversation_id
    meeting.started_at = now
    meeting.chair_person_id = chair_person_id
    return meeting, True


async def advance(session: AsyncSession, meeting: Meeting | MeetingToAdvance,
                  responsible: list[str], now: datetime
                  ) -> tuple[CaseToAdvance | None, CaseToAdvance | None]:
    """`next`: close the open case's planning and open the next listed one. Every check is
    made before anything changes; the change is one UPDATE of the two rows (the ORM does
    not hold them: nothing else of them is read in the turn)."""
    _must_not_be_paused(meeting)
    found = await to_advance(session, meeting)
    closed, following = found.open, found.following
    if closed is not None:
        _ready_to_close(closed, found.silent)
    elif following is None:
        raise MeetingError("Every case on the agenda has been heard; the chair can **end** "
                           "the meeting.")
    await core(session, _ADVANCE, {
        "closed": closed.id if closed else None, "opened": following.id if following else None,
        "now": now, "responsible": responsible})
    if closed is not None:
        closed = replace(closed, status=CaseStatus.CLOSED, closed_at=now)
    if following is not None:
        following = replace(following, status=CaseStatus.OPEN, opened_at=now,
                            paused_seconds=0)
    return closed, following


async def go_back(session: AsyncSession, meeting: Meeting, now: datetime) -> Case:
    """`back`: reopen the case heard just before the open one (or the last heard)."""
    _must_not_be_paused(meeting)
    cases = await cases_of(session, meeting)
    current = await open_case(session, meeting)
    heard = [c for c in cases if c.status is CaseStatus.CLOSED and c.closed_at is not None]
    if not heard:
        raise MeetingError("No case has been closed yet, so there is nothing to go back to.")
    previous = max(heard, key=lambda c: c.closed_at or now)
    if current is not None:
        current.status, current.opened_at = CaseStatus.LISTED, None
        current.warned_at = current.overrun_at = None
    # The time between closing and reopening does not count against its slot.
    previous.paused_seconds += int((now - (previous.closed_at or now)).total_seconds())
    previous.status, previous.closed_at, previous.responsible = CaseStatus.OPEN, None, []
    return previous


async def _must_be_ready_to_close(session: AsyncSession, case: Case) -> None:
    _ready_to_close(case, await core_agencies_without_a_reason(session, case))


def _ready_to_close(case: Case | CaseToAdvance, silent: list[str]) -> None:
    """One person is named to update the victim before a plan is closed, and a core agency
    whose information leads to no action of its own has said why (002)."""
    if not case.victim_contact and not case.exceptional:
        raise MeetingError(f"Name who will update the victim before closing {case.number}"
                           " (Victim contact, on its card).")
    if silent:
        raise MeetingError(f"{' and '.join(silent)} shared information on {case.number} with "
                           "no action of its own: add one, or say why none follows (Add "
                           "agency information, on its card).")


def close_case(case: Case, responsible: list[str], now: datetime) -> None:
    case.status = CaseStatus.CLOSED
    case.closed_at = now
    case.responsible = responsible


async def extend(session: AsyncSession, meeting: Meeting, marac: Marac, minutes: int,
                 now: datetime) -> Case:
    if not 1 <= minutes <= 60:
        raise MeetingError("Extend by a whole number of minutes from 1 to 60, e.g. **extend 5**.")
    case = await _current(session, meeting)
    case.extra_seconds += minutes * 60
    slot = slot_of(marac, meeting, case, now)
    if slot.remaining > 0:
        case.overrun_at = None
    if slot.remaining > marac.warning_seconds:
        case.warned_at = None
    return case


async def defer(session: AsyncSession, meeting: Meeting, marac: Marac, reason: str,
                now: datetime) -> tuple[Case, Meeting]:
    if not reason.strip():
        raise MeetingError("Give a reason to defer, e.g. **defer police research not back**.")
    case = await _current(session, meeting)
    case.deferred_reason = reason.strip()
    case.deferred_from_meeting_id = meeting.id
    slot = slot_of(marac, meeting, case, now)
    meeting.deferred_seconds_used += slot.length - slot.remaining
    later = await move_to_next_meeting(session, marac, case, meeting)
    return case, later


async def mark_exceptional(session: AsyncSession, meeting: Meeting, kind: str, note: str,
                           now: datetime) -> Case:
    if kind not in EXCEPTIONS:
        raise MeetingError("Say **exceptional death** or **exceptional moved**, then what is "
                           "known.")
    case = await _current(session, meeting)
    case.exceptional, case.exceptional_note = kind, note.strip()
    return case


def pause(meeting: Meeting, now: datetime) -> None:
    if meeting.status is MeetingStatus.PAUSED:
        return
    meeting.status, meeting.paused_at = MeetingStatus.PAUSED, now


async def resume(session: AsyncSession, meeting: Meeting, now: datetime) -> None:
    if meeting.status is not MeetingStatus.PAUSED or meeting.paused_at is None:
        return
    case = await open_case(session, meeting)
    if case is not None:
        case.paused_seconds += int((now - meeting.paused_at).total_seconds())
    meeting.status, meeting.paused_at = MeetingStatus.RUNNING, None


async def end(session: AsyncSession, meeting: Meeting, responsible: list[str], now: datetime
              ) -> None:
    case = await open_case(session, meeting)
    if case is not None:
        await _must_be_ready_to_close(session, case)
    await resume(session, meeting, now)
    if case is not None:
        close_case(case, responsible, now)
    meeting.status, meeting.ended_at = MeetingStatus.ENDED, now


async def _current(session: AsyncSession, meeting: Meeting) -> Case:
    case = await open_case(session, meeting)
    if case is None:
        raise MeetingError("No case is open; the chair opens the next with **next**.")
    return case


def _must_not_be_paused(meeting: Meeting | MeetingToAdvance) -> None:
    if meeting.status is MeetingStatus.PAUSED:
        raise MeetingError("The meeting is paused; **resume** it first.")


async def decide_declaration(session: AsyncSession, marac_id: int, number: str,
                             decision: str, now: datetime) -> Case:
    """The operations manager's decision on a declaration: the card's flag comes down."""
    case = await session.scalar(select(Case).join(Meeting, Meeting.id == Case.meeting_id)
                                .where(Meeting.marac_id == marac_id, Case.number == number))
    if case is None:
        raise MeetingError(f"There is no case {number} in this MARAC.")
    pending = (await session.scalars(select(ConflictDeclaration).where(
        ConflictDeclaration.case_id == case.id,
        ConflictDeclaration.decided_at.is_(None)))).all()
    if not pending:
        raise MeetingError(f"No declaration on {number} is waiting for a decision.")
    for declaration in pending:
        declaration.decided_at, declaration.decision = now, decision.strip()
    case.declaration_pending = False
    return case


async def confirm_attendance(session: AsyncSession, meeting: Meeting, person: Person,
                             role: AttendanceRole, agency_id: int | None, now: datetime
                             ) -> Attendance:
    attendance = await session.scalar(select(Attendance).where(
        Attendance.meeting_id == meeting.id, Attendance.person_id == person.id))
    if attendance is None:
        attendance = Attendance(meeting_id=meeting.id, person_id=person.id,
                                confirmed_at=now, role=role, agency_id=agency_id)
        session.add(attendance)
    attendance.role, attendance.agency_id = role, agency_id
    await session.flush()
    return attendance


async def present(session: AsyncSession, meeting: Meeting) -> list[tuple[Attendance, Person,
                                                                          Agency | None]]:
    rows = await session.execute(
        select(Attendance, Person, Agency).join(Person, Person.id == Attendance.person_id)
        .outerjoin(Agency, Agency.id == Attendance.agency_id)
        .where(Attendance.meeting_id == meeting.id).order_by(Attendance.confirmed_at))
    return [(a, p, g) for a, p, g in rows.tuples().all()]


async def responsible_names(session: AsyncSession, meeting: Meeting) -> list[str]:
    """Who shares responsibility for a plan closed now: everyone present but observers."""
    return [f"{person.first_name} ({agency.name if agency else attendance.role.value})"
            for attendance, person, agency in await present(session, meeting)
            if attendance.role is not AttendanceRole.OBSERVER]


async def core_agencies_without_a_reason(session: AsyncSession, case: Case) -> list[str]:
    """Core agencies that shared information on the case with no action of their own and
    without saying why (002); an exceptional case plans no actions, so none is owed."""
    if case.exceptional:
        return []
    own_action = select(PlannedAction.id).where(
        PlannedAction.case_id == case.id, PlannedAction.owning_agency_id == Agency.id,
        PlannedAction.origin != ActionOrigin.EARLIER_PLAN).exists()
    shared = (await session.execute(
        select(Agency.name, AgencyInformation.no_action_reason)
        .join(Agency, Agency.id == AgencyInformation.agency_id)
        .where(AgencyInformation.case_id == case.id, Agency.is_core,
               AgencyInformation.not_involved.is_(False), ~own_action))).all()
    return sorted(name for name, reason in shared if not reason)
