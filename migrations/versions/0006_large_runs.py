"""Large runs: indexes for a run's responses by time, and for filtering them by an answer

- ``response (run_id, submitted_at)``: a run's page counts its responses
  per UK day as one range of this index per day, and its table of responses
  reads them newest first from it, without reading the responses themselves.
- ``answer (run_id, question_key, value, response_id)``, for answers of up
  to 63 characters: the table of responses filtered by a context answer
  finds the responses with that answer here. Longer answers (free text) are
  left out, as PostgreSQL cannot hold an index entry of more than about
  2,700 bytes; an answer code is never longer than 63 characters.
- On PostgreSQL, statistics on answers that the planner does not keep by
  itself: which answers go with which question (an answer code belongs to
  one question, so the two conditions are not independent), and how long
  answers are (for the index's own condition). Without them PostgreSQL
  expected a filter to match about 40 times too few responses, and joined
  every match before showing a large run's first page; with them it reads
  the run newest first from the indexes.

Revision ID: 0006_large_runs
Revises: 0005_plan_references
Create Date: 2026-12-04 16:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006_large_runs'
down_revision = '0005_plan_references'
branch_labels = None
depends_on = None

SHORT_ANSWER = sa.text('length(value) <= 63')


def upgrade():
    op.create_index('ix_response_run_submitted', 'response', ['run_id', 'submitted_at'], unique=False)
    op.create_index(
        'ix_answer_run_question_value',
        'answer',
        ['run_id', 'question_key', 'value', 'response_id'],
        unique=False,
        sqlite_where=SHORT_ANSWER,
        postgresql_where=SHORT_ANSWER,
    )
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        version = bind.dialect.server_version_info
        # Multivariate lists of common values: PostgreSQL 12 and later.
        if version >= (12,):
            op.execute('CREATE STATISTICS st_answer_question_value (mcv, dependencies) ON question_key, value FROM answer')
        # Statistics on an expression: PostgreSQL 14 and later.
        if version >= (14,):
            op.execute('CREATE STATISTICS st_answer_value_length ON (length(value)) FROM answer')
        op.execute('ANALYZE answer')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP STATISTICS IF EXISTS st_answer_value_length')
        op.execute('DROP STATISTICS IF EXISTS st_answer_question_value')
    op.drop_index('ix_answer_run_question_value', table_name='answer')
    op.drop_index('ix_response_run_submitted', table_name='response')
