"""Return links and equality monitoring kept apart

Revision ID: 0002_library
Revises: 0001_foundation
Create Date: 2026-11-23 15:37:43.192843

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002_library'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('equality_monitoring',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_version_id', sa.Integer(), nullable=False),
    sa.Column('submitted_month', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['questionnaire_version_id'], ['questionnaire_version.id'], name=op.f('fk_equality_monitoring_questionnaire_version_id_questionnaire_version')),
    sa.ForeignKeyConstraint(['run_id'], ['survey_run.id'], name=op.f('fk_equality_monitoring_run_id_survey_run'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_equality_monitoring'))
    )
    with op.batch_alter_table('equality_monitoring', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_equality_monitoring_run_id'), ['run_id'], unique=False)

    op.create_table('equality_answer',
    sa.Column('monitoring_id', sa.String(length=32), nullable=False),
    sa.Column('question_key', sa.String(length=63), nullable=False),
    sa.Column('value', sa.String(length=63), nullable=False),
    sa.ForeignKeyConstraint(['monitoring_id'], ['equality_monitoring.id'], name=op.f('fk_equality_answer_monitoring_id_equality_monitoring'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('monitoring_id', 'question_key', 'value', name=op.f('pk_equality_answer'))
    )
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.add_column(sa.Column('return_token_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_draft_return_token_hash'), ['return_token_hash'])



def downgrade():
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_draft_return_token_hash'), type_='unique')
        batch_op.drop_column('return_token_hash')

    op.drop_table('equality_answer')
    with op.batch_alter_table('equality_monitoring', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_equality_monitoring_run_id'))

    op.drop_table('equality_monitoring')
