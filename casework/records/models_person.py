"""Person, with name and address history, contacts, alerts and record restriction."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.db import Base
from casework.records.models_common import Attributed, Created


class Person(Attributed, Base):
    __tablename__ = "person"
    __table_args__ = (
        # surname prefix (+ date of birth): text_pattern_ops lets LIKE 'abc%' use the index on PostgreSQL
        Index("ix_person_surname_norm_dob", "surname_norm", "date_of_birth",
              postgresql_ops={"surname_norm": "text_pattern_ops"}),
        # partial name anywhere: trigram GIN on PostgreSQL (a plain index on SQLite)
        Index("ix_person_search_name_trgm", "search_name", postgresql_using="gin",
              postgresql_ops={"search_name": "gin_trgm_ops"}),
        CheckConstraint("date_of_death IS NULL OR date_of_birth IS NULL OR date_of_death >= date_of_birth",
                        name="death_after_birth"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    local_id: Mapped[str | None] = mapped_column(String(20), unique=True)
    nhs_number: Mapped[str | None] = mapped_column(String(10), unique=True)
    upn: Mapped[str | None] = mapped_column(String(13), index=True)
    forename: Mapped[str] = mapped_column(String(100))
    middle_names: Mapped[str | None] = mapped_column(String(200))
    surname: Mapped[str] = mapped_column(String(100))
    preferred_name: Mapped[str | None] = mapped_column(String(100))
    surname_norm: Mapped[str] = mapped_column(String(100))
    search_name: Mapped[str] = mapped_column(String(300))
    date_of_birth: Mapped[date | None] = mapped_column(index=True)
    dob_is_expected: Mapped[bool] = mapped_column(default=False)
    date_of_death: Mapped[date | None]
    sex: Mapped[str | None] = mapped_column(String(1))
    gender: Mapped[str | None] = mapped_column(String(20))
    ethnicity: Mapped[str | None] = mapped_column(String(4))
    disabilities: Mapped[list[str]] = mapped_column(JSON, default=list)
    first_language: Mapped[str | None] = mapped_column(String(3))
    interpreter_needed: Mapped[bool] = mapped_column(default=False)
    restricted: Mapped[bool] = mapped_column(default=False)
    pds_linked_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)
    # UPDATE ... WHERE version = <the version read>: a concurrent writer makes the flush fail (-> 409)
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    names: Mapped[list[PersonName]] = relationship(order_by="PersonName.id", cascade="all, delete-orphan")
    addresses: Mapped[list[PersonAddress]] = relationship(order_by="PersonAddress.id",
                                                          cascade="all, delete-orphan")
    contacts: Mapped[list[PersonContact]] = relationship(order_by="PersonContact.id",
                                                         cascade="all, delete-orphan")
    alerts: Mapped[list[PersonAlert]] = relationship(order_by="PersonAlert.id", cascade="all, delete-orphan")
    restrictions: Mapped[list[PersonRestriction]] = relationship(cascade="all, delete-orphan")

    @property
    def display_name(self) -> str:
        return f"{self.preferred_name or self.forename} {self.surname}"

    @property
    def current_address(self) -> PersonAddress | None:
        current = [a for a in self.addresses if a.end_date is None]
        return current[-1] if current else None

    @property
    def active_alerts(self) -> list[PersonAlert]:
        return [a for a in self.alerts if a.ended_at is None]


class PersonName(Created, Base):
    """Every name a person has had: the current legal name has valid_to NULL."""

    __tablename__ = "person_name"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    name_type: Mapped[str] = mapped_column(String(20), default="legal")
    forename: Mapped[str] = mapped_column(String(100))
    middle_names: Mapped[str | None] = mapped_column(String(200))
    surname: Mapped[str] = mapped_column(String(100))
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class PersonAddress(Created, Base):
    __tablename__ = "person_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    address_type: Mapped[str] = mapped_column(String(20), default="home")
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str | None] = mapped_column(String(200))
    town: Mapped[str | None] = mapped_column(String(100))
    postcode: Mapped[str | None] = mapped_column(String(10), index=True)
    uprn: Mapped[str | None] = mapped_column(String(12))
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    ended_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class PersonContact(Created, Base):
    __tablename__ = "person_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    value: Mapped[str] = mapped_column(String(254))
    preferred: Mapped[bool] = mapped_column(default=False)
    ended_at: Mapped[datetime | None]


class PersonAlert(Created, Base):
    """A warning shown wherever the person appears (risk to staff, communication needs...)."""

    __tablename__ = "person_alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    alert_type: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(Text)
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class PersonRestriction(Created, Base):
    """Who may see a restricted (sealed) record: one row per named user or team."""

    __tablename__ = "person_restriction"
    __table_args__ = (
        UniqueConstraint("person_id", "user_id", "team_id", name="uq_person_restriction_person_user_team"),
        CheckConstraint("(user_id IS NULL) <> (team_id IS NULL)", name="one_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))
