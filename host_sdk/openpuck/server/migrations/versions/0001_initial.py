"""The initial clinic schema: clinics, therapists and their logins, patients,
installations, programmes, and the home histories' sessions, sets and events.

Revision ID: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _uploaded_keys() -> list[sa.Column]:
    return [sa.Column("installation_id", sa.Integer, sa.ForeignKey("installation.id"), nullable=False),
            sa.Column("session_local_id", sa.Integer, nullable=False),
            sa.Column("local_id", sa.Integer, nullable=False)]


def upgrade() -> None:
    op.create_table("clinic", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("name", sa.String(200), nullable=False, unique=True))
    op.create_table("therapist", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("clinic_id", sa.Integer, sa.ForeignKey("clinic.id"), nullable=False, index=True),
                    sa.Column("email", sa.String(320), nullable=False, unique=True),
                    sa.Column("password_hash", sa.String(200), nullable=False))
    op.create_table("login", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("therapist_id", sa.Integer, sa.ForeignKey("therapist.id"), nullable=False,
                              index=True),
                    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
                    sa.Column("expires_at", sa.Float, nullable=False))
    op.create_table("patient", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("clinic_id", sa.Integer, sa.ForeignKey("clinic.id"), nullable=False, index=True),
                    sa.Column("home_name", sa.String(64), nullable=False),
                    sa.UniqueConstraint("clinic_id", "home_name"))
    op.create_table("installation", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("patient_id", sa.Integer, sa.ForeignKey("patient.id"), nullable=False, index=True),
                    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
                    sa.Column("created_at", sa.Float, nullable=False),
                    sa.Column("revoked_at", sa.Float, nullable=True))
    op.create_table("programme", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("patient_id", sa.Integer, sa.ForeignKey("patient.id"), nullable=False, index=True),
                    sa.Column("version", sa.Integer, nullable=False),
                    sa.Column("name", sa.String(200), nullable=False),
                    sa.Column("toml", sa.Text, nullable=False),
                    sa.Column("assigned_at", sa.Float, nullable=False),
                    sa.Column("therapist_id", sa.Integer, sa.ForeignKey("therapist.id"), nullable=True),
                    sa.UniqueConstraint("patient_id", "version"))
    op.create_table("session", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("installation_id", sa.Integer, sa.ForeignKey("installation.id"), nullable=False),
                    sa.Column("local_id", sa.Integer, nullable=False),
                    sa.Column("patient_id", sa.Integer, sa.ForeignKey("patient.id"), nullable=False, index=True),
                    sa.Column("programme", sa.Text, nullable=False),
                    sa.Column("started_at", sa.Float, nullable=False),
                    sa.Column("ended_at", sa.Float, nullable=True),
                    sa.UniqueConstraint("installation_id", "local_id"))
    op.create_table("exercise_set", sa.Column("id", sa.Integer, primary_key=True), *_uploaded_keys(),
                    sa.Column("session_id", sa.Integer, sa.ForeignKey("session.id"), nullable=False, index=True),
                    sa.Column("exercise", sa.String(64), nullable=False),
                    sa.Column("set_index", sa.Integer, nullable=False),
                    sa.Column("target", sa.Float, nullable=True),
                    sa.Column("unit", sa.String(16), nullable=False),
                    sa.Column("pucks", sa.Text, nullable=False),
                    sa.Column("mode", sa.String(16), nullable=True),
                    sa.Column("started_at", sa.Float, nullable=False),
                    sa.Column("ended_at", sa.Float, nullable=True),
                    *(sa.Column(c, sa.Integer, nullable=True) for c in ("reps", "partial_reps", "grips")),
                    *(sa.Column(c, sa.Float, nullable=True)
                      for c in ("mean_amplitude", "best_amplitude", "time_under_tension_s", "active_s")),
                    sa.UniqueConstraint("installation_id", "session_local_id", "local_id"))
    op.create_table("event", sa.Column("id", sa.Integer, primary_key=True), *_uploaded_keys(),
                    sa.Column("set_id", sa.Integer, sa.ForeignKey("exercise_set.id"), nullable=False, index=True),
                    sa.Column("kind", sa.String(16), nullable=False),
                    sa.Column("puck", sa.String(64), nullable=False),
                    sa.Column("count", sa.Integer, nullable=True),
                    sa.Column("t", sa.Float, nullable=False),
                    *(sa.Column(c, sa.Float, nullable=True) for c in ("t_start", "t_peak", "t_end", "amplitude")),
                    sa.Column("unit", sa.String(16), nullable=True),
                    sa.Column("hold_s", sa.Float, nullable=True),
                    sa.Column("uncertain", sa.Boolean, nullable=False),
                    sa.Column("host_time", sa.Float, nullable=True),
                    sa.UniqueConstraint("installation_id", "session_local_id", "local_id"))


def downgrade() -> None:
    for table in ("event", "exercise_set", "session", "programme", "installation", "patient", "login",
                  "therapist", "clinic"):
        op.drop_table(table)
