"""The queries an expert answered in, by index: the dashboard's expert filter reads
model_calls by (expert, stage) and needs only the query ids.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_model_calls_expert_stage_query_id", "model_calls", ["expert", "stage", "query_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_model_calls_expert_stage_query_id", table_name="model_calls")
