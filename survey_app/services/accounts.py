"""Officer accounts: creating them, checking passwords, and slowing down guessing.

Passwords are hashed with scrypt (Werkzeug's default) and never logged,
shown or stored in any other form. A failed sign-in is counted per account
and per network address in the database, so the limits hold however many
worker processes serve the app; only keyed hashes of the address and email
are stored to count by.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from ..database import begin_write
from ..extensions import db
from ..models import Role, SignInFailure, User, utcnow
from . import audit

MINIMUM_PASSWORD_LENGTH = 12
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])
# Checked against when the email is not an account, so that a sign-in takes
# as long whether or not the account exists.
_UNUSED_HASH = generate_password_hash("not a password of anyone's")


class AccountError(ValueError):
    """A request about accounts that cannot be carried out, in words to show the person."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def password_problem(password: str, email: str = "") -> str | None:
    """Why this password is not good enough, or None if it is.

    Long enough, not one of the 30,000 most common passwords (nor one of them
    with numbers or symbols added at the end), and not easy to guess from the
    email address or the council's name.
    """
    if len(password) < MINIMUM_PASSWORD_LENGTH:
        return f"Password must be {MINIMUM_PASSWORD_LENGTH} characters or more"
    if len(password) > 200:
        return "Password must be 200 characters or fewer"
    lowered = password.lower()
    stem = re.sub(r"[\d\W_]+$", "", lowered)
    if lowered in _COMMON_PASSWORDS or stem in _COMMON_PASSWORDS:
        return "This is a commonly used password. Choose one that is harder to guess, such as three random words"
    hints = [email, email.split("@")[0], current_app.config["COUNCIL_NAME"], current_app.config["SERVICE_NAME"]]
    if zxcvbn(password[:100], user_inputs=[hint for hint in hints if hint])["score"] < 3:
        return "This password is too easy to guess. Choose a longer one, such as three random words"
    return None


def create_user(email: str, password: str, role: Role | str, created_by: User | None = None) -> User:
    email = normalise_email(email)
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        raise AccountError("Enter an email address in the correct format, like name@example.gov.uk")
    try:
        role = Role(role)
    except ValueError:
        raise AccountError(f"Role must be one of: {', '.join(r.value for r in Role)}") from None
    problem = password_problem(password, email)
    if problem:
        raise AccountError(problem)
    begin_write()
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        db.session.rollback()
        raise AccountError(f"There is already a user with the email address {email}")
    user = User(email=email, password_hash=generate_password_hash(password), role=role.value)
    db.session.add(user)
    db.session.flush()
    audit.record("user_created", email, actor=created_by, role=role.value, by="command line")
    db.session.commit()
    return user


def users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.email)))


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def user_by_id(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def set_active(user: User, active: bool, by: User | None = None) -> None:
    """Disable or enable an account. Disabling ends every session of the user at once."""
    begin_write()
    values = {"active": active}
    if not active:
        values["session_version"] = User.session_version + 1
    db.session.execute(update(User).where(User.id == user.id).values(**values))
    audit.record("user_enabled" if active else "user_disabled", user.email, actor=by, by="command line")
    db.session.commit()
    db.session.refresh(user)


def set_role(user: User, role: Role | str, by: User) -> None:
    role = Role(role)
    if user.id == by.id and role is not Role.ADMIN:
        raise AccountError("You cannot take away your own admin role: ask another admin")
    begin_write()
    db.session.execute(update(User).where(User.id == user.id).values(role=role.value))
    audit.record("user_changed", user.email, actor=by, role=role.value)
    db.session.commit()
    db.session.refresh(user)


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not check_password_hash(user.password_hash, current_password):
        raise AccountError("Your current password is not right")
    problem = password_problem(new_password, user.email)
    if problem:
        raise AccountError(problem)
    begin_write()
    # A new password ends the user's other sessions too.
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(password_hash=generate_password_hash(new_password), session_version=User.session_version + 1)
    )
    audit.record("password_changed", user.email, actor=user)
    db.session.commit()
    db.session.refresh(user)


def sign_out(user: User) -> None:
    """End every session of this user, on every device."""
    begin_write()
    db.session.execute(update(User).where(User.id == user.id).values(session_version=User.session_version + 1))
    audit.record("sign_out", user.email, actor=user)
    db.session.commit()
    db.session.refresh(user)


def load_session_user(session_id: str) -> User | None:
    """The user a session cookie names, if that session has not been ended."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


# Sign-in and its throttling


@dataclass(frozen=True)
class SignInResult:
    user: User | None = None
    throttled: bool = False


def _key(kind: str, value: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def _recent_failures(key_hash: str, since) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(SignInFailure)
        .where(SignInFailure.key_hash == key_hash, SignInFailure.at > since)
    )


def sign_in(email: str, password: str, address: str) -> SignInResult:
    """Check a sign-in; count it if it fails.

    Refused without checking the password once the account or the address
    has failed too often within the window, whether or not the account
    exists, so the answer never says which accounts exist.
    """
    config = current_app.config
    email = normalise_email(email)
    now = utcnow()
    since = now - timedelta(minutes=config["SIGN_IN_WINDOW_MINUTES"])
    account_key, address_key = _key("account", email), _key("address", address or "unknown")
    if (
        _recent_failures(account_key, since) >= config["SIGN_IN_ACCOUNT_LIMIT"]
        or _recent_failures(address_key, since) >= config["SIGN_IN_ADDRESS_LIMIT"]
    ):
        user = user_by_email(email)
        audit.record("sign_in_throttled", email if user else "", actor=user, by="nobody signed in")
        db.session.commit()
        return SignInResult(throttled=True)

    user = user_by_email(email) if EMAIL_PATTERN.match(email) else None
    if user is None:
        check_password_hash(_UNUSED_HASH, password)
    elif check_password_hash(user.password_hash, password) and user.active:
        begin_write()
        db.session.execute(delete(SignInFailure).where(SignInFailure.key_hash == account_key))
        db.session.execute(update(User).where(User.id == user.id).values(last_signed_in_at=now))
        audit.record("sign_in", user.email, actor=user)
        db.session.commit()
        db.session.refresh(user)
        return SignInResult(user=user)

    begin_write()
    db.session.execute(delete(SignInFailure).where(SignInFailure.at <= since))
    db.session.add_all([SignInFailure(key_hash=account_key, at=now), SignInFailure(key_hash=address_key, at=now)])
    # The email is recorded only when it is an account's: a mistyped one can be a password.
    audit.record("sign_in_failed", user.email if user else "", actor=user, by="nobody signed in")
    db.session.commit()
    return SignInResult()
