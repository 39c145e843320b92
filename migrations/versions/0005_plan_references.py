"""Plan references come only from identified invitations

Before this revision a questionnaire could ask for an EHC plan reference,
so a reference typed by anyone (in an anonymous run too, and by young
people) was stored with the response and joined responses on the Plans page.
From now on a response's plan reference is its invitation's, and nothing
else. This revision removes what was typed:

- every answer to the ``plan_reference`` question (the typed text), and any
  count of it kept by retention;
- the plan reference of every response that did not come through an
  invitation (nothing vouches for it, and it could identify a child in an
  anonymous response);
- it puts back the invitation's own reference on responses to identified
  invitations, where a second, typed reference had replaced it;
- and it makes young people's runs by identified invitation anonymous ones,
  as a young person's answers are never linked to a plan.

Revision ID: 0005_plan_references
Revises: 0004_measures
Create Date: 2026-12-04 15:00:00

"""
from alembic import op


revision = '0005_plan_references'
down_revision = '0004_measures'
branch_labels = None
depends_on = None


def upgrade():
    # A young person's answers are never linked to a plan: their runs by
    # identified invitation become anonymous ones, keeping no link from a
    # response to its invitation.
    young_people = (
        "SELECT questionnaire_version.id FROM questionnaire_version "
        "WHERE questionnaire_version.audience = 'young_person'"
    )
    op.execute(
        "UPDATE survey_run SET access = 'anonymous_invitations' "
        f"WHERE access = 'identified_invitations' AND questionnaire_version_id IN ({young_people})"
    )
    op.execute("UPDATE response SET invitation_id = NULL WHERE audience = 'young_person'")
    op.execute("DELETE FROM answer WHERE question_key = 'plan_reference'")
    op.execute("DELETE FROM retained_count WHERE question_key = 'plan_reference' OR group_key = 'plan_reference'")
    op.execute("UPDATE response SET plan_reference = NULL WHERE invitation_id IS NULL")
    op.execute(
        "UPDATE response SET plan_reference = ("
        " SELECT invitation.reference FROM invitation WHERE invitation.id = response.invitation_id"
        ") WHERE invitation_id IS NOT NULL"
    )


def downgrade():
    # What was removed was typed by respondents and is not kept anywhere to restore.
    pass
