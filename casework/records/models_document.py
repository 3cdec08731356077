"""Documents: metadata here, bytes on disk under settings.documents_dir; every version kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.db import Base, utcnow
from casework.records.models_common import Attributed, Created


class Document(Attributed, Base):
    __tablename__ = "document"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="RESTRICT"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id", ondelete="RESTRICT"), index=True)
    note_id: Mapped[int | None] = mapped_column(ForeignKey("case_note.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    # a code of codes.DOCUMENT_TYPES; required for new uploads, empty on documents uploaded before it existed
    document_type: Mapped[str | None] = mapped_column(String(40), index=True)
    current_version: Mapped[int] = mapped_column(default=1)
    version: Mapped[int] = mapped_column(default=1)
    # UPDATE ... WHERE version = <the version read>: a concurrent writer makes the flush fail (-> 409)
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    versions: Mapped[list[DocumentVersion]] = relationship(order_by="DocumentVersion.version_no",
                                                           cascade="all, delete-orphan")


class DocumentVersion(Created, Base):
    __tablename__ = "document_version"
    __table_args__ = (UniqueConstraint("document_id", "version_no", name="uq_document_version_document_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    version_no: Mapped[int]
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(300))


class DocumentAccess(Base):
    """Every download, by whom and when."""

    __tablename__ = "document_access"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    version_no: Mapped[int]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(20), default="download")
    accessed_at: Mapped[datetime] = mapped_column(default=utcnow)
