"""TOTP secrets encrypted at rest (AES-256-GCM under CASEWORK_DATA_KEY); a pending replacement secret.

Widens user_totp.secret for the encrypted form, adds user_totp.pending_secret, and encrypts every secret still
held as base32 text. The key is the running app's (``casework init``) or, outside an app, the one the
environment's settings give (CASEWORK_DATA_KEY; outside production derived from CASEWORK_SECRET_KEY): run the
upgrade with the same settings as the app. Downgrade decrypts them again (it needs the same key).

Revision ID: 0009_totp_encryption
Revises: 0008_worklist_order
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_totp_encryption"
down_revision = "0008_worklist_order"
branch_labels = None
depends_on = None

_totp = sa.table("user_totp", sa.column("user_id", sa.Integer), sa.column("secret", sa.String),
                 sa.column("pending_secret", sa.String))


def _context(user_id: int) -> str:
    return f"totp:{user_id}"  # as casework.auth.totp binds it


def upgrade() -> None:
    with op.batch_alter_table("user_totp") as batch:
        batch.alter_column("secret", existing_type=sa.String(length=64), type_=sa.String(length=255),
                           existing_nullable=False)
        batch.add_column(sa.Column("pending_secret", sa.String(length=255), nullable=True))
    from casework.auth.datakey import current_data_key, is_encrypted

    conn = op.get_bind()
    plain = [row for row in conn.execute(sa.select(_totp.c.user_id, _totp.c.secret)) if not is_encrypted(row.secret)]
    if not plain:
        return  # nothing to encrypt: no key needed
    key = current_data_key()
    for row in plain:
        conn.execute(sa.update(_totp).where(_totp.c.user_id == row.user_id)
                     .values(secret=key.encrypt(row.secret, context=_context(row.user_id))))


def downgrade() -> None:
    from casework.auth.datakey import current_data_key, is_encrypted

    conn = op.get_bind()
    rows = [row for row in conn.execute(sa.select(_totp.c.user_id, _totp.c.secret)) if is_encrypted(row.secret)]
    if rows:
        key = current_data_key()  # a wrong key stops here with DataKeyError, before anything is changed
        clear = {row.user_id: key.decrypt(row.secret, context=_context(row.user_id)) for row in rows}
        for user_id, secret in clear.items():
            conn.execute(sa.update(_totp).where(_totp.c.user_id == user_id).values(secret=secret))
    with op.batch_alter_table("user_totp") as batch:
        batch.drop_column("pending_secret")
        batch.alter_column("secret", existing_type=sa.String(length=255), type_=sa.String(length=64),
                           existing_nullable=False)
