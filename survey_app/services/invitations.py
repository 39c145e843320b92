"""Personal invitation links for invitation-only runs.

Officers upload a CSV of the case management system's references (and, if
they have them, email addresses); each row becomes one link that can send
one response. A link's token is an HMAC, under SECRET_KEY, of a random
128-bit salt kept on the invitation, so the same link can be given again
(a lost download, a reminder email) while the database alone, which holds
only the salt and the token's SHA-256, opens nothing. Changing SECRET_KEY
therefore stops every link sent so far from working.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, has_request_context, request, url_for
from sqlalchemy import func, select

from .. import mail
from ..database import begin_write
from ..extensions import db
from ..formatting import time_and_date
from ..models import Invitation, SurveyRun, utcnow
from . import audit, csv_files
from .csv_files import CsvFileRefused, column_letter

MAX_ROWS = 20_000
EMPTY = "The file is empty. It needs a header row, then one row for each person."
REFERENCE_LENGTH = 100
COLUMNS = ("reference", "email")
# A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Keeps these HMACs apart from any other use of SECRET_KEY.
_LINK_PURPOSE = "invitation-link:"


# Tokens ---------------------------------------------------------------------


def token_for(link_salt: str) -> str:
    """The link's token: 256 bits, from the salt and SECRET_KEY."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, (_LINK_PURPOSE + link_salt).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_for(run_slug: str, link_salt: str) -> str:
    """The full address of an invitation link, on the service's public address when it is set."""
    path = url_for("respondent.invitation", slug=run_slug, code=token_for(link_salt))
    return public_base_url() + path


def public_base_url() -> str:
    base = str(current_app.config["PUBLIC_URL"] or "").rstrip("/")
    if not base and has_request_context():
        base = request.url_root.rstrip("/")
    return base


# Reading an uploaded file ---------------------------------------------------


class InvitationFileRefused(CsvFileRefused):
    """An invitation list that cannot be imported."""


@dataclass(frozen=True)
class InvitationRow:
    reference: str
    email: str | None


def read_file(data: bytes, run: SurveyRun) -> list[InvitationRow]:
    """The rows of an uploaded CSV, or ``InvitationFileRefused`` listing every problem in it."""
    text = _text_of(data)
    rows = list(_records(text))
    if not rows:
        raise InvitationFileRefused([EMPTY])
    columns = _columns(rows[0][1])
    data_rows = [(number, cells) for number, cells in rows[1:] if any(cell.strip() for cell in cells)]
    if not data_rows:
        raise InvitationFileRefused(["The file has a header row but no rows of references under it."])
    if len(data_rows) > MAX_ROWS:
        raise InvitationFileRefused(
            [f"The file has {len(data_rows):,} rows of references. Split it into files of {MAX_ROWS:,} rows or fewer."]
        )
    invited = set(db.session.scalars(select(Invitation.reference).where(Invitation.run_id == run.id)))
    problems: list[str] = []
    found: list[InvitationRow] = []
    first_row_of: dict[str, int] = {}
    for number, cells in data_rows:
        row, row_problems = _row(number, cells, columns, invited, first_row_of)
        problems += row_problems
        if row is not None:
            found.append(row)
    if problems:
        raise InvitationFileRefused(problems)
    return found


def _text_of(data: bytes) -> str:
    try:
        return csv_files.decode(data, EMPTY, limit=current_app.config["MAX_CONTENT_LENGTH"])
    except CsvFileRefused as refused:
        raise InvitationFileRefused(refused.problems) from None


def _records(text: str) -> Iterable[tuple[int, list[str]]]:
    try:
        yield from csv_files.records(text)
    except CsvFileRefused as refused:
        raise InvitationFileRefused(refused.problems) from None


def _columns(header: list[str]) -> list[str]:
    names = [cell.strip().lower() for cell in header]
    problems = []
    if "reference" not in names:
        problems.append(
            "Row 1: the first row must name the columns. Put “reference” at the top of the column of "
            "references, and “email” at the top of the column of email addresses if you have them."
        )
    for position, name in enumerate(names):
        if name and name not in COLUMNS:
            problems.append(
                f"Row 1, column {column_letter(position)}: remove the column “{header[position].strip()[:50]}”. "
                "Only reference and email can be uploaded."
            )
        elif name and names.index(name) != position:
            problems.append(f"Row 1, column {column_letter(position)}: the column {name} appears more than once.")
    if problems:
        raise InvitationFileRefused(problems)
    return names


def _row(
    number: int, cells: list[str], columns: list[str], invited: set[str], first_row_of: dict[str, int]
) -> tuple[InvitationRow | None, list[str]]:
    problems = csv_files.unnamed_cells(number, cells, columns, "reference or email")
    values = {name: cell.strip() for name, cell in zip(columns, cells, strict=False) if name}
    reference, email = values.get("reference", ""), values.get("email", "")
    if not reference:
        problems.append(f"Row {number}, column reference: enter the reference")
    elif len(reference) > REFERENCE_LENGTH:
        problems.append(f"Row {number}, column reference: the reference must be {REFERENCE_LENGTH} characters or fewer")
    elif reference in first_row_of:
        problems.append(f"Row {number}, column reference: this reference is also in row {first_row_of[reference]}")
    elif reference in invited:
        problems.append(f"Row {number}, column reference: this reference has already been invited to this survey run")
    else:
        first_row_of[reference] = number
    if email and not mail.is_valid_address(email):
        problems.append(f"Row {number}, column email: enter an email address in the correct format")
    if problems:
        return None, problems
    return InvitationRow(reference, email or None), []


# Creating and listing -------------------------------------------------------


def create(run: SurveyRun, rows: list[InvitationRow]) -> tuple[datetime, int]:
    """Create one invitation per row, all or none; returns the batch's time (which names it) and its size."""
    begin_write()
    references = [row.reference for row in rows]
    taken = set(
        db.session.scalars(
            select(Invitation.reference).where(Invitation.run_id == run.id, Invitation.reference.in_(references))
        )
    )
    if taken:
        db.session.rollback()
        # Someone else uploaded some of these references in the meantime.
        raise InvitationFileRefused(
            [f"{reference} has already been invited to this survey run" for reference in sorted(taken)]
        )
    now = utcnow()
    values = []
    for row in rows:
        salt = secrets.token_hex(16)
        values.append(
            {
                "run_id": run.id,
                "link_salt": salt,
                "token_hash": token_hash(token_for(salt)),
                "reference": row.reference,
                "email": row.email,
                "created_at": now,
                "used": False,
                "reminders_sent": 0,
            }
        )
    db.session.execute(Invitation.__table__.insert(), values)
    audit.record("invitations_created", run.title, run_id=run.id, count=len(values))
    db.session.commit()
    return now, len(values)


@dataclass(frozen=True)
class Counts:
    invited: int
    used: int
    # Not answered, with an email address: who a reminder would go to.
    to_remind: int
    # Of those, the ones never emailed: who the invitation email would go to.
    never_emailed: int


def counts(run: SurveyRun) -> Counts:
    waiting = (Invitation.used.is_(False)) & Invitation.email.is_not(None)
    row = db.session.execute(
        select(
            func.count(),
            func.count().filter(Invitation.used.is_(True)),
            func.count().filter(waiting),
            func.count().filter(waiting & (Invitation.reminders_sent == 0)),
        ).where(Invitation.run_id == run.id)
    ).one()
    return Counts(*row)


def batches(run: SurveyRun) -> list[tuple[datetime, int]]:
    """Each upload (its time) and how many links it made, newest first."""
    rows = db.session.execute(
        select(Invitation.created_at, func.count())
        .where(Invitation.run_id == run.id)
        .group_by(Invitation.created_at)
        .order_by(Invitation.created_at.desc())
    )
    return [(created_at, count) for created_at, count in rows]


def references(run: SurveyRun, page: int, per_page: int = 100) -> list[tuple[str, bool]]:
    """Identified runs only: one page of references, with whether each has answered."""
    if run.access != "identified_invitations":
        raise ValueError("Only an identified run may show who has answered.")
    rows = db.session.execute(
        select(Invitation.reference, Invitation.used)
        .where(Invitation.run_id == run.id)
        .order_by(Invitation.reference)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return [(reference, used) for reference, used in rows]


def links_csv(run: SurveyRun, batch: datetime | None = None) -> tuple[str, int]:
    """A CSV of reference, email and link, for one upload or all of them; audited as a download."""
    query = select(Invitation.reference, Invitation.email, Invitation.link_salt).where(Invitation.run_id == run.id)
    if batch is not None:
        query = query.where(Invitation.created_at == batch)
    rows = db.session.execute(query.order_by(Invitation.id)).all()
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\r\n")
    writer.writerow(["reference", "email", "link"])
    for reference, email, salt in rows:
        writer.writerow([safe_cell(reference), safe_cell(email or ""), safe_cell(link_for(run.slug, salt))])
    begin_write()
    audit.record("invitations_downloaded", run.title, run_id=run.id, count=len(rows))
    db.session.commit()
    return "\ufeff" + output.getvalue(), len(rows)  # the byte order mark tells Excel it is UTF-8


def safe_cell(value: str) -> str:
    """A cell a spreadsheet will show as text, never run as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


# Emails ---------------------------------------------------------------------

INVITATION, REMINDER = "invitation", "reminder"


@dataclass(frozen=True)
class Sent:
    sent: int
    failed: int


def send_emails(run: SurveyRun, kind: str) -> Sent:
    """Email each person who has not answered: their invitation (if never emailed) or a reminder.

    A failure to send to one address is counted, not fatal. Sending happens
    before the write transaction, so the database is not locked while the
    mail server answers.
    """
    query = select(Invitation.id, Invitation.email, Invitation.link_salt).where(
        Invitation.run_id == run.id, Invitation.used.is_(False), Invitation.email.is_not(None)
    )
    if kind == INVITATION:
        query = query.where(Invitation.reminders_sent == 0)
    sent_ids, failed = [], 0
    for invitation_id, email, salt in db.session.execute(query.order_by(Invitation.id)).all():
        try:
            mail.send(email, *_email(run, kind, link_for(run.slug, salt)))
        except (mail.MailNotSent, ValueError):
            failed += 1
            continue
        sent_ids.append(invitation_id)
    begin_write()
    table = Invitation.__table__
    now = utcnow()
    for start in range(0, len(sent_ids), 500):
        db.session.execute(
            table.update()
            .where(table.c.id.in_(sent_ids[start : start + 500]))
            .values(reminders_sent=table.c.reminders_sent + 1, last_reminded_at=now)
        )
    action = "invitations_emailed" if kind == INVITATION else "reminders_sent"
    audit.record(action, run.title, run_id=run.id, count=len(sent_ids), failed=failed)
    db.session.commit()
    return Sent(len(sent_ids), failed)


def _email(run: SurveyRun, kind: str, link: str) -> tuple[str, str]:
    council = current_app.config["COUNCIL_NAME"]
    closes = time_and_date(run.closes_at)
    if kind == INVITATION:
        subject = f"{run.title}: {council} would like to hear from you"
        opening = f"{council} would like to know what you think. Please answer our survey “{run.title}”."
    else:
        subject = f"Reminder: {run.title}"
        opening = (
            f"We have not had your answers to our survey “{run.title}” yet. There is still time to take part, "
            "and your views make a difference."
        )
    body = (
        f"{opening}\n\n"
        "Use this link to answer. It is personal to you and works once, so please do not share it:\n"
        f"{link}\n\n"
        f"The survey closes at {closes}.\n\n"
        f"If you have any questions, email {current_app.config['CONTACT_EMAIL']}.\n\n"
        f"{council}"
    )
    return subject, body


# The respondent's side ------------------------------------------------------


@dataclass(frozen=True)
class Pass:
    """An invitation as the respondent journey sees it."""

    id: int
    used: bool
    token_hash: str


_PASS = select(Invitation.id, Invitation.used, Invitation.token_hash)


def pass_for_code(run_id: int, code: str) -> Pass | None:
    if not code or len(code) > 100:
        return None
    return pass_for_hash(run_id, token_hash(code))


def pass_for_hash(run_id: int, hashed: str | None) -> Pass | None:
    if not hashed:
        return None
    row = db.session.execute(_PASS.where(Invitation.run_id == run_id, Invitation.token_hash == hashed)).first()
    return Pass(*row) if row else None


def pass_for_id(run_id: int, invitation_id: int) -> Pass | None:
    row = db.session.execute(_PASS.where(Invitation.run_id == run_id, Invitation.id == invitation_id)).first()
    return Pass(*row) if row else None
