"""Tracks that remember their lines; ideal lap, sector source, timing lines and laps
revision on sessions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: storage.db.models.UTCDateTime stores this; migrations never import the models
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tracks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("ref_lat", sa.Float(), nullable=False),
        sa.Column("ref_lon", sa.Float(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracks")),
    )
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("ideal_lap_s", sa.Float(), nullable=True))
        batch.add_column(sa.Column("sector_source", sa.String(length=16), server_default="none", nullable=False))
        batch.add_column(sa.Column("timing_lines", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("laps_revision", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("track_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_sessions_track_id_tracks"), "tracks", ["track_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_sessions_track_id", ["track_id"])


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_index("ix_sessions_track_id")
        batch.drop_constraint("fk_sessions_track_id_tracks", type_="foreignkey")
        batch.drop_column("track_id")
        batch.drop_column("laps_revision")
        batch.drop_column("timing_lines")
        batch.drop_column("sector_source")
        batch.drop_column("ideal_lap_s")
    op.drop_table("tracks")
