"""The first schema: MARACs, their agencies and people, the conversations the bot is in,
and meetings with their cases."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from storage.crypto import EncryptedJSON, EncryptedText


class UTCDateTime(TypeDecorator[datetime]):
    """Stores instants in UTC and always hands back aware datetimes, on SQLite as on
    PostgreSQL (SQLite would otherwise return naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime}
    # Named constraints, so that migrations can alter them on SQLite as on PostgreSQL.
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


class Role(enum.StrEnum):
    """What a person does in one MARAC (../shared/MARAC.md, "Who uses the bot")."""

    COORDINATOR = "coordinator"
    TRIAGE_MEMBER = "triage_member"
    CHAIR = "chair"
    OPERATIONS_MANAGER = "operations_manager"
    AGENCY_REPRESENTATIVE = "agency_representative"
    OBSERVER = "observer"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class ConversationKind(enum.StrEnum):
    """Where a message came from, in Teams' own terms."""

    CHANNEL = "channel"
    GROUP_CHAT = "groupChat"
    PERSONAL = "personal"
    MEETING = "meeting"


def _enum(kind: type[enum.Enum], name: str) -> Enum:
    return Enum(kind, name=name, values_callable=lambda members: [m.value for m in members],
                native_enum=False, length=32)


class Marac(Base):
    __tablename__ = "marac"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    area: Mapped[str] = mapped_column(String(200))
    tenant_id: Mapped[str] = mapped_column(String(64))
    # The Teams team whose channels are this MARAC's; a channel anywhere else is not.
    team_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    case_prefix: Mapped[str] = mapped_column(String(12), default="MARAC")
    # The settings of ../shared/MARAC.md, each with the default it gives (002 unless noted).
    meeting_weekday: Mapped[int] = mapped_column(default=2)  # Monday is 0: Wednesday
    meeting_time: Mapped[time] = mapped_column(default=time(9, 30))
    triage_weekday: Mapped[int] = mapped_column(default=3)  # Thursday afternoon
    # The day the triage queue last went to the triage members (once on each triage weekday).
    triage_queue_sent_on: Mapped[date | None] = mapped_column()
    slot_seconds: Mapped[int] = mapped_column(default=20 * 60)  # 20 minutes (002)
    warning_seconds: Mapped[int] = mapped_column(default=5 * 60)  # warn when 5 minutes remain
    slots_per_meeting: Mapped[int] = mapped_column(default=12)
    earliest_working_days: Mapped[int] = mapped_column(default=7)
    latest_working_days: Mapped[int] = mapped_column(default=14)
    target_working_days: Mapped[int] = mapped_column(default=14)
    case_list_lead_working_days: Mapped[int] = mapped_column(default=4)
    agency_deadline_working_days: Mapped[int] = mapped_column(default=1)
    repeat_months: Mapped[int] = mapped_column(default=12)
    high_risk_threshold: Mapped[int] = mapped_column(default=14)  # DASH yes answers (001, 004)
    bank_holidays: Mapped[str] = mapped_column(String(3), default="ENG")  # ENG, WLS, SCT, NIR
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    # How long a case is kept after its meeting before it is purged (the area's retention
    # schedule decides; six years is a common one).
    retention_days: Mapped[int] = mapped_column(default=6 * 365)
    # Adults (16+) living in the MARAC's area: cases heard are reported per 10,000 of them.
    adult_population: Mapped[int | None] = mapped_column()

    agencies: Mapped[list[Agency]] = relationship(back_populates="marac")
    meetings: Mapped[list[Meeting]] = relationship(back_populates="marac")


class Agency(Base):
    __tablename__ = "agency"
    __table_args__ = (UniqueConstraint("marac_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    marac_id: Mapped[int] = mapped_column(ForeignKey("marac.id"))
    name: Mapped[str] = mapped_column(String(200))
    is_core: Mapped[bool] = mapped_column(default=False)
    signed_sharing_agreement: Mapped[bool] = mapped_column(default=False)

    marac: Mapped[Marac] = relationship(back_populates="agencies")


class Person(Base):
    """Someone known by their Azure AD identity; never a victim or perpetrator."""

    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("tenant_id", "aad_object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    aad_object_id: Mapped[str] = mapped_column(String(64))
    first_name: Mapped[str] = mapped_column(EncryptedText)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    # Teams' own id for the person (29:... in Teams), learned from their messages; 1:1
    # messages are addressed to it.
    teams_user_id: Mapped[str | None] = mapped_column(String(200))

    grants: Mapped[list[RoleGrant]] = relationship(back_populates="person")


class RoleGrant(Base):
    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("person_id", "marac_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    marac_id: Mapped[int] = mapped_column(ForeignKey("marac.id"))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))

    person: Mapped[Person] = relationship(back_populates="grants")


class Conversation(Base):
    """A conversation the bot is installed in, with the reference proactive messages need."""

    __tablename__ = "conversation"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(400), unique=True)
    kind: Mapped[ConversationKind] = mapped_column(_enum(ConversationKind, "conversation_kind"))
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    team_id: Mapped[str | None] = mapped_column(String(200))
    channel_id: Mapped[str | None] = mapped_column(String(200))
    service_url: Mapped[str] = mapped_column(String(500))
    reference: Mapped[str] = mapped_column(Text)  # botbuilder ConversationReference as JSON
    marac_id: Mapped[int | None] = mapped_column(ForeignKey("marac.id"))
    installed_at: Mapped[datetime] = mapped_column()
    welcomed_at: Mapped[datetime | None] = mapped_column()
    removed_at: Mapped[datetime | None] = mapped_column()


class MeetingStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    ENDED = "ended"


class Meeting(Base):
    """One MARAC meeting. While it runs, everything about it (the open case, the slot clock,
    the pause, the warnings) is here, so a restart or another replica carries on."""

    __tablename__ = "meeting"
    __table_args__ = (UniqueConstraint("marac_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    marac_id: Mapped[int] = mapped_column(ForeignKey("marac.id"))
    starts_at: Mapped[datetime] = mapped_column()
    case_list_sent_at: Mapped[datetime | None] = mapped_column()
    reminders_sent_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[MeetingStatus] = mapped_column(_enum(MeetingStatus, "meeting_status"),
                                                  default=MeetingStatus.SCHEDULED)
    conversation_id: Mapped[str | None] = mapped_column(String(400))  # where it is run
    started_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    chair_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    stand_in_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    paused_at: Mapped[datetime | None] = mapped_column()
    attendance_message_id: Mapped[str | None] = mapped_column(String(200))
    deferred_seconds_used: Mapped[int] = mapped_column(default=0)  # on cases then deferred
    # The Teams meeting ended with this one still open: the chair was reminded, once.
    end_reminded_at: Mapped[datetime | None] = mapped_column()
    # Teams' id of the meeting whose chat this runs in (from its events), for notifications.
    teams_meeting_id: Mapped[str | None] = mapped_column(String(400))

    marac: Mapped[Marac] = relationship(back_populates="meetings")
    cases: Mapped[list[Case]] = relationship(back_populates="meeting", order_by="Case.slot",
                                             foreign_keys="Case.meeting_id")


class ReferralStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for triage
    NEEDS_INFORMATION = "needs_information"
    POSSIBLE_DUPLICATE = "possible_duplicate"  # same victim in the same window: confirm or split
    ACCEPTED = "accepted"
    DECLINED = "declined"
    MERGED = "merged"  # confirmed as a duplicate: linked to the referral it repeats


class ReferralSource(enum.StrEnum):
    CARD = "card"
    POLICE_FEED = "police_feed"
    TRANSFER = "transfer"  # a MARAC-to-MARAC referral from another MARAC of this deployment


class Referral(Base):
    """A referral to the MARAC with its DASH checklist and the criteria it met or missed.

    The perpetrator is recorded by first name only and is never a recipient of anything.
    """

    __tablename__ = "referral"
    __table_args__ = (
        UniqueConstraint("marac_id", "police_incident_index"),
        Index("ix_referral_victim", "marac_id", "victim_index"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    marac_id: Mapped[int] = mapped_column(ForeignKey("marac.id"))
    source: Mapped[ReferralSource] = mapped_column(_enum(ReferralSource, "referral_source"))
    # The Teams message of the card it was submitted from: a second press finds it again.
    source_message_id: Mapped[str | None] = mapped_column(String(600), unique=True)
    police_incident_ref: Mapped[str | None] = mapped_column(EncryptedText)
    police_incident_index: Mapped[str | None] = mapped_column(String(64))  # keyed, to match
    victim_first_name: Mapped[str] = mapped_column(EncryptedText)
    victim_reference: Mapped[str] = mapped_column(EncryptedText)
    # A keyed hash of the reference, to find the same victim again without decrypting.
    victim_index: Mapped[str] = mapped_column(String(64))
    victim_age_band: Mapped[str] = mapped_column(String(20))
    # The equality profile SafeLives asks for, each optional and from a fixed list
    # (dialogs.referrals.EQUALITY); reported only as counts of 5 or more.
    victim_gender: Mapped[str | None] = mapped_column(String(40))
    victim_ethnicity: Mapped[str | None] = mapped_column(String(40))
    victim_disability: Mapped[str | None] = mapped_column(String(40))
    victim_sexual_orientation: Mapped[str | None] = mapped_column(String(40))
    children_in_household: Mapped[int] = mapped_column(default=0)
    perpetrator_first_name: Mapped[str] = mapped_column(EncryptedText)
    referring_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    referrer_name: Mapped[str] = mapped_column(EncryptedText)
    referred_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    incident_date: Mapped[date] = mapped_column()
    received_on: Mapped[date] = mapped_column()
    area: Mapped[str] = mapped_column(String(200))
    honour_based_violence: Mapped[bool] = mapped_column(default=False)
    dash_answers: Mapped[dict[str, str]] = mapped_column(EncryptedJSON, default=dict)
    # The victim's voice (dialogs.victim_voice): optional answers, encrypted together.
    victim_voice: Mapped[dict[str, str] | None] = mapped_column(EncryptedJSON)
    dash_yes_count: Mapped[int] = mapped_column()
    escalation: Mapped[bool] = mapped_column(default=False)
    escalation_detail: Mapped[str] = mapped_column(EncryptedText, default="")
    professional_judgement: Mapped[bool] = mapped_column(default=False)
    rationale: Mapped[str] = mapped_column(EncryptedText, default="")
    risk_level: Mapped[str] = mapped_column(String(16))
    qualifying_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    decision_explanation: Mapped[str] = mapped_column(Text)
    # A repeat: the victim's earlier referral that was heard; its case holds the earlier plan.
    repeat_of_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"))
    status: Mapped[ReferralStatus] = mapped_column(_enum(ReferralStatus, "referral_status"))
    triage_note: Mapped[str] = mapped_column(EncryptedText, default="")
    # The referrer's answer to "needs more information", shown to triage beside the question.
    information_answer: Mapped[str | None] = mapped_column(EncryptedText)
    triaged_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    # When the coordinator was told it can no longer be heard within the target (once).
    target_flagged_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()


class CaseStatus(enum.StrEnum):
    LISTED = "listed"
    OPEN = "open"
    CLOSED = "closed"
    DEFERRED = "deferred"
    EXCEPTIONAL = "exceptional"  # information recorded, no action planning (002)


class Case(Base):
    """A victim's case listed at a meeting. Shared channels see its number and first name only."""

    __tablename__ = "marac_case"
    __table_args__ = (UniqueConstraint("meeting_id", "slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"))
    slot: Mapped[int] = mapped_column(Integer)  # 1-based order of listing; closed panel goes last
    victim_first_name: Mapped[str] = mapped_column(EncryptedText)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"), unique=True)
    closed_panel: Mapped[bool] = mapped_column(default=False)  # honour-based violence (002)
    breaches_target: Mapped[bool] = mapped_column(default=False)  # heard after 14 working days
    status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus, "case_status"),
                                               default=CaseStatus.LISTED)
    opened_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    paused_seconds: Mapped[int] = mapped_column(default=0)  # pauses do not eat the slot
    extra_seconds: Mapped[int] = mapped_column(default=0)  # the chair's `extend`
    warned_at: Mapped[datetime | None] = mapped_column()  # minutes-remaining warning sent
    overrun_at: Mapped[datetime | None] = mapped_column()  # slot-over warning sent
    card_message_id: Mapped[str | None] = mapped_column(String(200))
    victim_contact: Mapped[str] = mapped_column(EncryptedText, default="")
    exceptional: Mapped[str] = mapped_column(String(40), default="")  # death / moved away
    exceptional_note: Mapped[str] = mapped_column(EncryptedText, default="")
    deferred_reason: Mapped[str] = mapped_column(EncryptedText, default="")
    deferred_from_meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id"))
    # The people present when the plan was closed: collectively responsible for it (002).
    responsible: Mapped[list[str]] = mapped_column(EncryptedJSON, default=list)
    admitted_person_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # closed panel
    declaration_pending: Mapped[bool] = mapped_column(default=False)

    meeting: Mapped[Meeting] = relationship(back_populates="cases", foreign_keys=[meeting_id])
    referral: Mapped[Referral | None] = relationship(foreign_keys=[referral_id])
    planned_actions: Mapped[list[PlannedAction]] = relationship(
        back_populates="case", order_by="PlannedAction.id")


class ActionOrigin(enum.StrEnum):
    PREPOPULATED = "prepopulated"  # from the referral, before the meeting (002)
    EARLIER_PLAN = "earlier_plan"  # a repeat victim's previous actions, for information only
    MEETING = "meeting"


class PlannedAction(Base):
    __tablename__ = "planned_action"
    # A case's actions are read on every meeting press and `next` (its card's figures, who
    # is silent): found through the index, not by scanning every action ever agreed.
    __table_args__ = (Index("ix_planned_action_case", "case_id", "owning_agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("marac_case.id"))
    origin: Mapped[ActionOrigin] = mapped_column(_enum(ActionOrigin, "action_origin"))
    owning_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    for_whom: Mapped[str] = mapped_column(String(20))  # victim, perpetrator or children
    description: Mapped[str] = mapped_column(EncryptedText)
    owner: Mapped[str] = mapped_column(EncryptedText, default="")
    risk: Mapped[str] = mapped_column(EncryptedText, default="")
    due_on: Mapped[date | None] = mapped_column()
    added_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    # The card press that added it: Teams retries and people double-click.
    source_key: Mapped[str | None] = mapped_column(String(300), unique=True)

    case: Mapped[Case] = relationship(back_populates="planned_actions")


class AgencyInformation(Base):
    """What one agency holds on one case, sent before or at the meeting (002). An agency that
    sends nothing is read as holding no relevant information."""

    __tablename__ = "agency_information"
    __table_args__ = (UniqueConstraint("case_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("marac_case.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    not_involved: Mapped[bool] = mapped_column(default=False)  # "systems flagged" only
    text: Mapped[str] = mapped_column(EncryptedText, default="")
    # A core agency whose information leads to no action of its own says why (002).
    no_action_reason: Mapped[str | None] = mapped_column(EncryptedText)
    sent_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    sent_at: Mapped[datetime] = mapped_column()
    # Research returned before the meeting (issue 16): the risks the agency sees, what it has
    # already done and what it proposes; marked late when it came after the deadline.
    risks: Mapped[str | None] = mapped_column(EncryptedText)
    actions_taken: Mapped[str | None] = mapped_column(EncryptedText)
    actions_proposed: Mapped[str | None] = mapped_column(EncryptedText)
    before_meeting: Mapped[bool] = mapped_column(default=False)
    late: Mapped[bool] = mapped_column(default=False)


class Apology(Base):
    """A representative's apologies for one meeting, with the deputy from their agency who
    holds the representative's rights at that meeting only (002)."""

    __tablename__ = "apology"
    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    deputy_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    sent_at: Mapped[datetime] = mapped_column()


class OutboxMessage(Base):
    """A message the bot must deliver, kept until Teams has taken it or it is marked failed
    with the reason: written in the same transaction as the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "delivered_at", "failed_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))  # a 1:1 message
    conversation_id: Mapped[str | None] = mapped_column(String(400))  # or a conversation
    replaces_activity_id: Mapped[str | None] = mapped_column(String(200))  # a card to update
    activity: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)  # cards name people
    purpose: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column()
    next_attempt_at: Mapped[datetime] = mapped_column()
    attempts: Mapped[int] = mapped_column(default=0)
    delivered_at: Mapped[datetime | None] = mapped_column()
    failed_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str] = mapped_column(Text, default="")


class AttendanceRole(enum.StrEnum):
    AGENCY_REPRESENTATIVE = "agency_representative"
    CHAIR = "chair"
    OBSERVER = "observer"


class Attendance(Base):
    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    role: Mapped[AttendanceRole] = mapped_column(_enum(AttendanceRole, "attendance_role"))
    confirmed_at: Mapped[datetime] = mapped_column()


class MeetingArrival(Base):
    """Someone Teams says joined the meeting's call: shown on the attendance card as joined,
    not yet confirmed, until they confirm their agency and role (an explicit press)."""

    __tablename__ = "meeting_arrival"
    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    joined_at: Mapped[datetime] = mapped_column()


class ConflictDeclaration(Base):
    """Someone at the meeting knows a person in a case: the operations manager decides (002)."""

    __tablename__ = "conflict_declaration"
    __table_args__ = (UniqueConstraint("case_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("marac_case.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    declared_at: Mapped[datetime] = mapped_column()
    decided_at: Mapped[datetime | None] = mapped_column()
    decision: Mapped[str] = mapped_column(EncryptedText, default="")


class AuditEvent(Base):
    """Append-only: who did or saw what, when, from where, and whether it was refused.
    The ORM refuses to update or delete a row (storage.audit_guard), and on PostgreSQL so
    does a trigger."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_subject", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column()
    tenant_id: Mapped[str] = mapped_column(String(64))
    aad_object_id: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    marac_id: Mapped[int | None] = mapped_column(ForeignKey("marac.id"))
    place: Mapped[str] = mapped_column(String(40))  # channel, personal chat, ...
    conversation_id: Mapped[str] = mapped_column(String(400))
    action: Mapped[str] = mapped_column(String(60))  # a command or button name
    subject: Mapped[str] = mapped_column(String(100), default="")  # a case or referral
    outcome: Mapped[str] = mapped_column(String(20))  # done, refused, failed
    detail: Mapped[str] = mapped_column(Text, default="")


# After the meeting: plans, dissemination, acknowledgement


class PlanVersion(Base):
    """One version of a case's action plan, the record of the meeting (002): the first is the
    plan agreed when the case was closed; every change after the meeting is a new version that
    says who changed what, and why. A version is never changed once written."""

    __tablename__ = "plan_version"
    __table_args__ = (UniqueConstraint("case_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("marac_case.id"))
    version: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
    changed_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    change: Mapped[str] = mapped_column(EncryptedText)  # what changed
    reason: Mapped[str] = mapped_column(EncryptedText)  # why
    # The whole plan as it stands (dialogs.plans.Plan): attendees, information, risks,
    # actions, victim contact, updates.
    content: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    # For a repeat victim: the plan of their last hearing, linked for information (002).
    earlier_plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan_version.id"))


class ActionStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    DONE = "done"
    CANNOT_COMPLETE = "cannot_complete"


class ActionFollowUp(Base):
    """An action agreed at the meeting, followed after it: its owner's acknowledgement, its
    completion or why it cannot be done, and each reminder (sent once)."""

    __tablename__ = "action_follow_up"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("planned_action.id"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("marac_case.id"))
    # The owner, when the action's owner names one person of the owning agency; otherwise
    # any representative of that agency answers for it.
    owner_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    status: Mapped[ActionStatus] = mapped_column(_enum(ActionStatus, "action_status"),
                                                 default=ActionStatus.OPEN)
    card_sent_at: Mapped[datetime] = mapped_column()
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()  # done, or cannot be completed
    answered_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    note: Mapped[str] = mapped_column(EncryptedText, default="")  # the done note or the reason
    acknowledge_reminded_at: Mapped[datetime | None] = mapped_column()
    due_reminded_at: Mapped[datetime | None] = mapped_column()
    # Still open 2 and 5 working days after its due date: escalated once each (002).
    coordinator_escalated_at: Mapped[datetime | None] = mapped_column()
    manager_escalated_at: Mapped[datetime | None] = mapped_column()
    # The operations manager's review of an action that cannot be completed (002).
    review: Mapped[str | None] = mapped_column(String(20))  # accepted, reassigned, closed
    reviewed_at: Mapped[datetime | None] = mapped_column()
    reviewed_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    review_note: Mapped[str] = mapped_column(EncryptedText, default="")
    # A reassigned action's successor, with its new agency and owner.
    reassigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("planned_action.id"))


class Dissemination(Base):
    """A case's plan sent out after the meeting, against its 48-hour deadline (002)."""

    __tablename__ = "dissemination"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("marac_case.id"), unique=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"))
    plan_version_id: Mapped[int] = mapped_column(ForeignKey("plan_version.id"))
    queued_at: Mapped[datetime] = mapped_column()
    deadline_at: Mapped[datetime | None] = mapped_column()  # once the meeting has ended
    coordinator_alerted_at: Mapped[datetime | None] = mapped_column()  # undelivered at 36 h
    manager_alerted_at: Mapped[datetime | None] = mapped_column()  # undelivered at 48 h


class DeliveryKind(enum.StrEnum):
    TEAMS = "teams"  # a 1:1 message to one of the agency's representatives
    EMAIL = "email"  # the agency's secure mailbox, through Microsoft Graph
    WITHHELD = "withheld"  # not sent: no information sharing agreement, or a closed panel
    NO_RECIPIENT = "no_recipient"  # nobody and no mailbox on record for the agency


class PlanDelivery(Base):
    """One agency's copy of a disseminated plan, or why it has none."""

    __tablename__ = "plan_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    dissemination_id: Mapped[int] = mapped_column(ForeignKey("dissemination.id"))
    # The version sent: a case reopened at the meeting and closed again is sent again.
    plan_version_id: Mapped[int] = mapped_column(ForeignKey("plan_version.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    why: Mapped[str] = mapped_column(String(80))  # core agency, took part, given an action
    kind: Mapped[DeliveryKind] = mapped_column(_enum(DeliveryKind, "delivery_kind"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    mail_id: Mapped[int | None] = mapped_column(ForeignKey("mail_outbox.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    failure_reported_at: Mapped[datetime | None] = mapped_column()


class AgencyMailbox(Base):
    """An agency's secure mailbox, where plans are also emailed with the plan attached."""

    __tablename__ = "agency_mailbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), unique=True)
    address: Mapped[str] = mapped_column(String(320))


class MailMessage(Base):
    """An email to send through Microsoft Graph, kept until sent or marked failed with the
    reason. Its only possible recipient is an agency's secure mailbox (the foreign key); the
    plan version is rendered and attached when it is sent."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("agency_mailbox.id"))
    plan_version_id: Mapped[int] = mapped_column(ForeignKey("plan_version.id"))
    subject: Mapped[str] = mapped_column(String(200))  # a case number, never a name
    created_at: Mapped[datetime] = mapped_column()
    next_attempt_at: Mapped[datetime] = mapped_column()
    attempts: Mapped[int] = mapped_column(default=0)
    delivered_at: Mapped[datetime | None] = mapped_column()
    failed_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str] = mapped_column(Text, default="")


class PlanUpdate(Base):
    """New information after the meeting; where it raises the risk, the referring agency
    updates children's services within 24 hours (001)."""

    __tablename__ = "plan_update"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("marac_case.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    text: Mapped[str] = mapped_column(EncryptedText)
    risk_raised: Mapped[bool] = mapped_column(default=False)
    at: Mapped[datetime] = mapped_column()
    # The card press that sent it: Teams retries and people double-click.
    source_key: Mapped[str | None] = mapped_column(String(300), unique=True)


class ProcessedMessage(Base):
    """Typed messages already handled, by Teams' activity id: a retried or replayed delivery
    of `next` must not advance the agenda twice. Kept a day (dialogs.retention)."""

    __tablename__ = "processed_message"
    __table_args__ = (UniqueConstraint("conversation_id", "activity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(400))
    activity_id: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column()


class ScheduledJob(Base):
    """Work done now and then rather than every tick (the retention purge), by whichever
    replica claims it first: when it is next due. The schedule is here, never in a process,
    so that a restart or another replica keeps to it."""

    __tablename__ = "scheduled_job"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    due_at: Mapped[datetime] = mapped_column()


# Between MARACs: a victim who moves away (002 §11)


class TransferDelivery(enum.StrEnum):
    DELIVERED = "delivered"  # into the receiving MARAC's triage, with the earlier plans
    WITHHELD = "withheld"  # the receiving MARAC is here, but the sharing agreements do not allow
    OUTSIDE = "outside"  # the receiving MARAC is not run by this bot: the document is sent


class Transfer(Base):
    """A MARAC-to-MARAC referral: the victim of a case has moved to another MARAC's area. The
    referring agency informs the partners; within this deployment the transfer arrives in the
    receiving MARAC's triage as a referral of its own (`referral_id`)."""

    __tablename__ = "transfer"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("marac_case.id"))
    from_marac_id: Mapped[int] = mapped_column(ForeignKey("marac.id"))
    # The sending hearing's referral: its hearing counts for the receiving MARAC's repeats.
    from_referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"))
    to_marac_id: Mapped[int | None] = mapped_column(ForeignKey("marac.id"))
    to_marac_name: Mapped[str] = mapped_column(String(200))
    recorded_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    recorded_at: Mapped[datetime] = mapped_column()
    delivery: Mapped[TransferDelivery] = mapped_column(
        _enum(TransferDelivery, "transfer_delivery"))
    note: Mapped[str] = mapped_column(Text, default="")  # why withheld
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"), unique=True)


class HubFollowUp(Base):
    """Children's services (the HUB) after the conference (001 §4, §6): the chair records on
    closing the case whether the referring agency must update the HUB, and within 24 hours or
    3 days; with no contact recorded within 2 working days, the children's services
    representatives are prompted to chase, once."""

    __tablename__ = "hub_follow_up"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("marac_case.id"), unique=True)
    needed: Mapped[bool] = mapped_column()
    within_hours: Mapped[int | None] = mapped_column()  # 24, or 72 (3 days)
    due_at: Mapped[datetime | None] = mapped_column()
    chase_at: Mapped[datetime | None] = mapped_column()  # 2 working days on
    referring_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    recorded_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    recorded_at: Mapped[datetime] = mapped_column()
    contacted_at: Mapped[datetime | None] = mapped_column()
    contacted_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    chased_at: Mapped[datetime | None] = mapped_column()  # the prompt to chase, sent once


# Disputes, complaints and breaches on the record (002 §7–9, §13)

GOVERNANCE_STEPS = ("between partners", "operations manager", "agency managers",
                    "steering group")


class GovernanceRecord(Base):
    """A dispute on a decision or action, a complaint or a breach: raised, then moved through
    the four steps of 002 §7 by the operations manager, each step dated and attributed."""

    __tablename__ = "governance_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    marac_id: Mapped[int] = mapped_column(ForeignKey("marac.id"))
    kind: Mapped[str] = mapped_column(String(20))  # dispute, complaint, breach, disclosure
    case_id: Mapped[int | None] = mapped_column(ForeignKey("marac_case.id"))
    about: Mapped[str] = mapped_column(EncryptedText)
    step: Mapped[int] = mapped_column(default=1)  # 1 to 4, GOVERNANCE_STEPS
    opened_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    opened_at: Mapped[datetime] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    # A disclosure to a court is made only under its order (002 §13): the order's reference.
    court_order_ref: Mapped[str | None] = mapped_column(EncryptedText)


class GovernanceStep(Base):
    """One step of a governance record: who moved it there, when, and the note."""

    __tablename__ = "governance_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("governance_record.id"))
    step: Mapped[int] = mapped_column()
    at: Mapped[datetime] = mapped_column()
    by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    note: Mapped[str] = mapped_column(EncryptedText, default="")
