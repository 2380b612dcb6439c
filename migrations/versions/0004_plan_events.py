"""Plans keep the retrieval decision and the committee's structured events.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: plans stored before this revision have neither (read back as "never" and no
    # events).
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("retrieval", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("events", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("events")
        batch.drop_column("retrieval")
