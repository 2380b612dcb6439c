"""Workflow attempts keep their sub-task's type (route: profile ranks candidates per type).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: attempts stored before this revision have no type (no profile counts them).
    with op.batch_alter_table("workflow_attempts") as batch:
        batch.add_column(sa.Column("task_type", sa.String(128), nullable=True))
        batch.create_index(op.f("ix_workflow_attempts_task_type"), ["task_type"])


def downgrade() -> None:
    with op.batch_alter_table("workflow_attempts") as batch:
        batch.drop_index(op.f("ix_workflow_attempts_task_type"))
        batch.drop_column("task_type")
