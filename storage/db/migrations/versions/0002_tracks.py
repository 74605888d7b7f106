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
    # plain ADD COLUMNs: a batch rebuild of ``sessions`` on SQLite would drop its
    # AUTOINCREMENT (ids of deleted sessions, and their file names, would come back) and
    # cascade-delete the laps when the old table is dropped; so ``track_id`` carries no
    # foreign key (tracks are never deleted)
    op.add_column("sessions", sa.Column("ideal_lap_s", sa.Float(), nullable=True))
    op.add_column("sessions", sa.Column("sector_source", sa.String(length=16), server_default="none", nullable=False))
    op.add_column("sessions", sa.Column("timing_lines", sa.JSON(), nullable=True))
    op.add_column("sessions", sa.Column("laps_revision", sa.BigInteger(), server_default="0", nullable=False))
    op.add_column("sessions", sa.Column("track_id", sa.Integer(), nullable=True))
    op.create_index("ix_sessions_track_id", "sessions", ["track_id"])


def downgrade() -> None:
    op.drop_index("ix_sessions_track_id", table_name="sessions")
    # SQLite (3.35+) drops plain columns in place, keeping the table and its AUTOINCREMENT
    for column in ("track_id", "laps_revision", "timing_lines", "sector_source", "ideal_lap_s"):
        op.drop_column("sessions", column)
    op.drop_table("tracks")
