"""Indexes for the dashboard's lists: stored queries newest first, paged by (created_at, id)
and filtered by status; jobs newest first; the newest batches (their model loads).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # (created_at, id): a batch's queries share one instant, so a page boundary needs the id
    op.create_index("ix_queries_created_at_id", "queries", ["created_at", "id"])
    op.create_index("ix_queries_status_created_at", "queries", ["status", "created_at"])
    op.create_index("ix_jobs_created_at", "jobs", ["created_at"])
    op.create_index("ix_batches_created_at", "batches", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_batches_created_at", table_name="batches")
    op.drop_index("ix_jobs_created_at", table_name="jobs")
    op.drop_index("ix_queries_status_created_at", table_name="queries")
    op.drop_index("ix_queries_created_at_id", table_name="queries")
