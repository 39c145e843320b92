"""Sending the one email this service sends: a "save and come back later" link.

A respondent may choose to give an email address so that we can send them the
link that returns them to their saved answers. The message goes out through
the SMTP server named by the ``MAIL_*`` settings (see ``config.py``); with no
``MAIL_SERVER`` mail is not configured and the option is not offered.

Privacy: this module logs that a message was sent, or that it was not and why,
but NEVER the recipient's address, the subject or the body. The body holds a
secret link that opens someone's answers, and the address is personal data
that we promise not to keep, so neither may reach a log file. Reasons given by
the mail server are logged only after anything that looks like an address has
been removed, and a failure is raised as ``MailNotSent`` with a plain-English
message and no chained exception, so that logging it is safe too.

Only the standard library is used: ``smtplib`` and ``email.message.EmailMessage``.
"""

from __future__ import annotations

import logging
import re
import smtplib
import socket
import ssl
import unicodedata
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import current_app

log = logging.getLogger(__name__)

__all__ = ["MailNotSent", "is_configured", "is_valid_address", "send"]

# The limits of RFC 5321 as GOV.UK Notify applies them: a whole address of at
# most 254 characters, a local part (before the @) of at most 64 and each part
# of the domain of at most 63.
MAX_ADDRESS_LENGTH = 254
MAX_LOCAL_PART_LENGTH = 64
MAX_DOMAIN_LABEL_LENGTH = 63

# Notify's rules, a little stricter than the RFCs on purpose: no quoted local
# parts, no comments, no IP-address domains. Anything they refuse is almost
# certainly a typing mistake. The local part is kept to ASCII so that any mail
# server can carry it; the domain may be internationalised.
_LOCAL_PART = re.compile(r"[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~\-]+")
_DOMAIN_LABEL = re.compile(r"(xn|[a-z0-9]+)(-?-[a-z0-9]+)*", re.IGNORECASE)
_TOP_LEVEL_DOMAIN = re.compile(r"[a-z]{2,63}|xn--([a-z0-9]+-)*[a-z0-9]+", re.IGNORECASE)

# Anything in a server's reply that looks like an address is removed before it is logged.
_ANYTHING_LIKE_AN_ADDRESS = re.compile(r"[^\s<>()\[\]\"',;:]*@[^\s<>()\[\]\"',;:]*")


class MailNotSent(Exception):
    """The message could not be sent. The message says why, in plain English, and is safe to log:
    it never contains the recipient's address, the subject or the body."""


def is_configured() -> bool:
    """Whether a mail server is set, and so whether the email option can be offered."""
    return bool(str(current_app.config.get("MAIL_SERVER") or "").strip())


def is_valid_address(text: str) -> bool:
    """A pragmatic check of an email address, as GOV.UK Notify validates them.

    One @; a local part of 1 to 64 characters that are letters, digits or
    ``.!#$%&'*+/=?^_`{|}~-``; a domain with at least one dot, each part letters,
    digits and hyphens (internationalised domains are allowed) and a top-level
    domain of letters (or ``xn--``); no spaces, no ``..``, at most 254
    characters. No DNS lookup: whether the mailbox exists is not checked.
    Surrounding whitespace is refused too, so strip what a person typed first.
    """
    if not isinstance(text, str) or len(text) > MAX_ADDRESS_LENGTH or text.count("@") != 1:
        return False
    local_part, domain = text.split("@")
    if not local_part or len(local_part) > MAX_LOCAL_PART_LENGTH or not _LOCAL_PART.fullmatch(local_part):
        return False
    if ".." in text or local_part.startswith(".") or local_part.endswith("."):
        return False
    ascii_domain = _ascii_domain(domain)
    if ascii_domain is None or len(local_part) + 1 + len(ascii_domain) > MAX_ADDRESS_LENGTH:
        return False
    labels = ascii_domain.split(".")
    if len(labels) < 2:
        return False
    for label in labels:
        if not label or len(label) > MAX_DOMAIN_LABEL_LENGTH or not _DOMAIN_LABEL.fullmatch(label):
            return False
    return bool(_TOP_LEVEL_DOMAIN.fullmatch(labels[-1]))


def send(to: str, subject: str, body: str) -> None:
    """Send a plain-text UTF-8 email to one address.

    Raises ``ValueError`` if ``to`` is not a valid address or ``to`` or
    ``subject`` contains a line break or another control character (header
    injection): those are mistakes in the calling code, so check the address
    with ``is_valid_address`` first. Raises ``MailNotSent`` if mail is not
    configured or the message could not be handed to the mail server, for
    whatever reason (connection refused, time-out, TLS failure, login refused,
    recipient refused, any other SMTP error).
    """
    for name, value in (("recipient address", to), ("subject", subject)):
        if not isinstance(value, str) or _has_line_break_or_control_character(value):
            raise ValueError(f"The {name} must be one line of text: line breaks are not allowed in a header.")
    if not is_valid_address(to):
        raise ValueError("The recipient address is not a valid email address.")

    reason = _send(to, subject, body)
    if reason is None:
        return
    # Raised here, outside any ``except`` block, so that the exception carries
    # no chained exception: smtplib's errors can contain the address.
    log.warning("Email not sent: %s", reason)
    raise MailNotSent(f"The email was not sent: {reason}.")


def _send(to: str, subject: str, body: str) -> str | None:
    """Send the message; return None if it was accepted, or why it was not."""
    config = current_app.config
    if not is_configured():
        return "email is not set up (MAIL_SERVER is empty)"
    host = str(config["MAIL_SERVER"]).strip()
    try:
        port = int(config["MAIL_PORT"])
        timeout = float(config["MAIL_TIMEOUT_SECONDS"])
    except (TypeError, ValueError):
        return "MAIL_PORT and MAIL_TIMEOUT_SECONDS must be numbers"
    use_tls, use_ssl = bool(config["MAIL_USE_TLS"]), bool(config["MAIL_USE_SSL"])
    if use_tls and use_ssl:
        return "MAIL_USE_TLS and MAIL_USE_SSL are both set: use one (SSL for port 465, TLS for STARTTLS)"
    sender = str(config["MAIL_FROM"]).strip()
    if not is_valid_address(sender):
        return "MAIL_FROM is not a valid email address"
    where = f"{host} port {port}"

    try:
        message = _message(sender, to, subject, body)
    except (ValueError, TypeError):
        return "the message could not be built (check SERVICE_NAME and MAIL_FROM)"

    try:
        if use_ssl:
            connection: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=_tls_context())
        else:
            connection = smtplib.SMTP(host, port, timeout=timeout)
        with connection:
            # EHLO (or HELO) is sent by each of starttls, login and send_message as needed,
            # and again after STARTTLS, as the protocol requires.
            if use_tls:
                connection.starttls(context=_tls_context())
            if config["MAIL_USERNAME"]:
                connection.login(str(config["MAIL_USERNAME"]), str(config["MAIL_PASSWORD"] or ""))
            connection.send_message(message, from_addr=sender, to_addrs=[_ascii_address(to)])
    except smtplib.SMTPAuthenticationError as error:
        return f"the mail server at {where} refused the login ({_server_reply(error, to)})"
    except smtplib.SMTPRecipientsRefused as error:
        code, reply = next(iter(error.recipients.values()), ("no code", b""))
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        return f"the mail server at {where} refused the recipient (code {code}: {_clean(text, to)})"
    except smtplib.SMTPSenderRefused as error:
        return f"the mail server at {where} refused the sender MAIL_FROM ({_server_reply(error, to)})"
    except smtplib.SMTPNotSupportedError as error:
        return f"the mail server at {where} does not support what was asked of it: {_clean(str(error), to)}"
    except smtplib.SMTPServerDisconnected as error:
        # smtplib reports a read that timed out as a disconnection.
        if isinstance(error.__context__, TimeoutError):
            return f"the mail server at {where} did not answer within {_seconds(timeout)}"
        return f"the mail server at {where} closed the connection unexpectedly"
    except smtplib.SMTPResponseException as error:
        return f"the mail server at {where} returned an error ({_server_reply(error, to)})"
    except smtplib.SMTPException as error:
        return f"SMTP error talking to {where}: {_clean(str(error), to)}"
    except ssl.SSLError as error:
        detail = getattr(error, "verify_message", None) or error.reason or type(error).__name__
        return f"the secure (TLS) connection to {where} failed: {_clean(str(detail), to)}"
    except TimeoutError:
        return f"the mail server at {where} did not answer within {_seconds(timeout)}"
    except ConnectionRefusedError:
        return f"the mail server at {where} refused the connection (nothing is listening there)"
    except socket.gaierror:
        return f"the mail server name {host} could not be found"
    except OSError as error:
        return f"could not connect to {where}: {_clean(error.strerror or type(error).__name__, to)}"
    log.info("Email sent through %s.", where)
    return None


def _message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    sender_domain = _ascii_domain(sender.rpartition("@")[2]) or "localhost"
    local_part = sender.rpartition("@")[0]
    message = EmailMessage()
    message["From"] = Address(
        display_name=str(current_app.config.get("SERVICE_NAME") or ""),
        username=local_part,
        domain=sender_domain,
    )
    message["To"] = _ascii_address(to)
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=sender_domain)
    message.set_content(body, charset="utf-8")
    return message


def _tls_context() -> ssl.SSLContext:
    """Certificates are checked against the system's trusted authorities (or SSL_CERT_FILE)."""
    return ssl.create_default_context()


def _ascii_domain(domain: str) -> str | None:
    """The domain as mail servers expect it: an internationalised one in its ``xn--`` form."""
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None


def _ascii_address(address: str) -> str:
    local_part, _, domain = address.rpartition("@")
    return f"{local_part}@{_ascii_domain(domain)}"


def _has_line_break_or_control_character(text: str) -> bool:
    # Not only CR and LF: the email package also breaks lines at other
    # separators (str.splitlines), so every control character is refused.
    return any(unicodedata.category(character) in ("Cc", "Zl", "Zp") for character in text)


def _seconds(seconds: float) -> str:
    return f"{seconds:g} second" + ("" if seconds == 1 else "s")


def _server_reply(error: smtplib.SMTPResponseException, to: str) -> str:
    text = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) else str(error.smtp_error)
    return f"code {error.smtp_code}: {_clean(text, to)}"


def _clean(text: str, to: str) -> str:
    """A server's words, safe to log: no address, no line breaks, not too long."""
    if to:
        text = re.sub(re.escape(to), "[address]", text, flags=re.IGNORECASE)
    text = _ANYTHING_LIKE_AN_ADDRESS.sub("[address]", text)
    text = " ".join(text.split())[:200].rstrip(" .")
    return text or "no reason given"
