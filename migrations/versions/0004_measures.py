"""Measures: figures recorded from outside the surveys

Revision ID: 0004_measures
Revises: 0003_officer_area
Create Date: 2026-12-02 21:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004_measures'
down_revision = '0003_officer_area'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('recorded_figure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('measure_key', sa.String(length=63), nullable=False),
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('numerator', sa.Integer(), nullable=True),
    sa.Column('denominator', sa.Integer(), nullable=True),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('recorded_by', sa.String(length=254), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recorded_figure')),
    sa.UniqueConstraint('measure_key', 'period', name=op.f('uq_recorded_figure_measure_key_period'))
    )


def downgrade():
    op.drop_table('recorded_figure')
