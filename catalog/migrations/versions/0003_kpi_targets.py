"""KPI targets per partner type (or partner) and period.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kpi_targets",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("partner_type", sa.String(length=32), nullable=True),
        sa.Column("partner_id", sa.String(length=36), nullable=True),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"],
                                name=op.f("fk_kpi_targets_partner_id_partners")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_targets")),
    )
    op.create_index("ix_kpi_targets_period", "kpi_targets", ["period", "partner_type"])
    op.create_index(op.f("ix_kpi_targets_partner_id"), "kpi_targets", ["partner_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_kpi_targets_partner_id"), table_name="kpi_targets")
    op.drop_index("ix_kpi_targets_period", table_name="kpi_targets")
    op.drop_table("kpi_targets")
