"""The first schema: MARACs, their agencies and people, the conversations the bot is in,
and meetings with their cases."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


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


class Role(enum.StrEnum):
    """What a person does in one MARAC (../shared/MARAC.md, "Who uses the bot")."""

    COORDINATOR = "coordinator"
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
    slot_minutes: Mapped[int] = mapped_column(default=20)

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
    first_name: Mapped[str] = mapped_column(String(100))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))

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


class Meeting(Base):
    __tablename__ = "meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    marac_id: Mapped[int] = mapped_column(ForeignKey("marac.id"))
    starts_at: Mapped[datetime] = mapped_column()

    marac: Mapped[Marac] = relationship(back_populates="meetings")
    cases: Mapped[list[Case]] = relationship(back_populates="meeting", order_by="Case.slot")


class Case(Base):
    """A victim's case listed at a meeting. Shared channels see its number and first name only."""

    __tablename__ = "marac_case"
    __table_args__ = (UniqueConstraint("meeting_id", "slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"))
    slot: Mapped[int] = mapped_column(Integer)  # 1-based position on the agenda
    victim_first_name: Mapped[str] = mapped_column(String(100))

    meeting: Mapped[Meeting] = relationship(back_populates="cases")
