"""Answer counts: one table of counts, kept up to date with every response, for the measures and their history

- ``answer_count`` replaces ``retained_count``: the same counts (by run, UK
  month, question, answer and context group; the responses' own with
  question ""; a measure's per-response outcome under ``@`` and its key;
  equality monitoring answers for everyone only), now kept for the
  responses still held too, so that the measures report reads them rather
  than counting the answers again. ``retained`` marks what retention kept
  when it deleted a run's responses. The rows ``retained_count`` held are
  copied as retained rows (their ``questionnaire_version_id`` is the run's,
  so it is not kept).
- ``counted_measure``: the measures counted per response and the definition
  their counts were made by.
- Backfill: every response and equality monitoring record still held is
  counted, and the measures file's measures that need whole responses are
  counted per response (by the app's own counting, ``services.answer_counts``;
  about a minute a million responses). If the measures file cannot be read,
  no measure is counted per response, and ``flask measures check`` says to
  run ``flask measures rebuild-counts`` once it is corrected.

Revision ID: 0007_answer_counts
Revises: 0006_large_runs
Create Date: 2026-12-07 10:00:00

"""
import logging

from alembic import op
import sqlalchemy as sa


revision = '0007_answer_counts'
down_revision = '0006_large_runs'
branch_labels = None
depends_on = None

log = logging.getLogger('alembic.runtime.migration')
KEY = ['retained', 'run_id', 'group_key', 'question_key', 'value', 'group_value', 'month']


def upgrade():
    op.create_table(
        'answer_count',
        sa.Column('retained', sa.Boolean(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('group_key', sa.String(length=63), nullable=False),
        sa.Column('question_key', sa.String(length=64), nullable=False),
        sa.Column('value', sa.String(length=63), nullable=False),
        sa.Column('group_value', sa.String(length=63), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['run_id'], ['survey_run.id'], name=op.f('fk_answer_count_run_id_survey_run'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint(*KEY, name=op.f('pk_answer_count')),
    )
    op.create_table(
        'counted_measure',
        sa.Column('measure_key', sa.String(length=63), nullable=False),
        sa.Column('definition_hash', sa.String(length=64), nullable=False),
        sa.Column('definition', sa.JSON(), nullable=False),
        sa.Column('counted_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('measure_key', name=op.f('pk_counted_measure')),
    )
    op.execute(
        'INSERT INTO answer_count (retained, run_id, group_key, question_key, value, group_value, month, count) '
        'SELECT true, run_id, group_key, question_key, value, group_value, month, count FROM retained_count'
    )
    op.drop_table('retained_count')
    _backfill()


def _backfill():
    """Count what is held now, as the app counts each response from here on."""
    from analysis.measures_file import MeasuresFileError
    from survey_app.services import answer_counts
    from survey_app.services import measures as measure_service
    from survey_app.services.questionnaires import library

    questionnaires = library().questionnaires
    try:
        measures = measure_service.measure_set()
    except (MeasuresFileError, OSError) as problem:
        log.warning(
            'The measures file could not be read (%s): no measure is counted per response. Correct it, then run '
            'flask --app wsgi measures rebuild-counts.',
            problem,
        )
        measures = None
    answer_counts.rebuild(op.get_bind(), measures, questionnaires, everything=True)


def downgrade():
    op.create_table(
        'retained_count',
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('question_key', sa.String(length=63), nullable=False),
        sa.Column('value', sa.String(length=63), nullable=False),
        sa.Column('group_key', sa.String(length=63), nullable=False),
        sa.Column('group_value', sa.String(length=63), nullable=False),
        sa.Column('questionnaire_version_id', sa.Integer(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['questionnaire_version_id'],
            ['questionnaire_version.id'],
            name=op.f('fk_retained_count_questionnaire_version_id_questionnaire_version'),
        ),
        sa.ForeignKeyConstraint(
            ['run_id'], ['survey_run.id'], name=op.f('fk_retained_count_run_id_survey_run'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint(
            'run_id', 'month', 'question_key', 'value', 'group_key', 'group_value', name=op.f('pk_retained_count')
        ),
    )
    # Only what retention kept goes back: the counts of responses still held are counted from them again.
    op.execute(
        'INSERT INTO retained_count '
        '(run_id, month, question_key, value, group_key, group_value, questionnaire_version_id, count) '
        'SELECT c.run_id, c.month, c.question_key, c.value, c.group_key, c.group_value, '
        'r.questionnaire_version_id, c.count FROM answer_count c JOIN survey_run r ON r.id = c.run_id '
        'WHERE c.retained = true'
    )
    op.drop_table('counted_measure')
    op.drop_table('answer_count')
