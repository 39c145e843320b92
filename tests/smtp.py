"""A real SMTP server on 127.0.0.1 for the mail tests, run by aiosmtpd in a thread.

Use it with ``from .smtp import smtp_server  # noqa: F401`` (and
``smtp_auth_server`` for a server that accepts a login). Each fixture yields a
``SMTPServer`` with ``.host``, ``.port`` and ``.messages``: every message the
server accepted, parsed with the modern email policy. ``start_smtp_server``
starts one with any other aiosmtpd settings (TLS, for example).
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"
USERNAME = "survey-app"
PASSWORD = "correct horse battery staple"


@dataclass
class SMTPServer:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    # The login each message was sent under (None without one), in the same order.
    logins: list[str | None] = field(default_factory=list)
    # What the client said in RCPT TO, for each message.
    envelope_recipients: list[list[str]] = field(default_factory=list)
    # Recipients to refuse with a 550 that, like real servers, repeats the address.
    refuse: set[str] = field(default_factory=set)


class CollectingHandler:
    """Keeps every message in ``server.messages``; refuses the addresses in ``server.refuse``."""

    def __init__(self, server: SMTPServer) -> None:
        self.server = server

    async def handle_RCPT(self, smtp, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook name
        if address in self.server.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        # Lines end with CRLF on the wire and with LF once a mail client has read them.
        content = envelope.original_content.replace(b"\r\n", b"\n")
        self.server.messages.append(message_from_bytes(content, policy=policy.default))
        auth_data = session.auth_data if session.authenticated else None
        self.server.logins.append(auth_data.login.decode() if isinstance(auth_data, LoginPassword) else None)
        self.server.envelope_recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


def check_password(server, session, envelope, mechanism, auth_data) -> AuthResult:
    """The aiosmtpd authenticator: USERNAME with PASSWORD, nothing else."""
    if isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USERNAME.encode(),
        PASSWORD.encode(),
    ):
        return AuthResult(success=True, auth_data=auth_data)
    return AuthResult(success=False, handled=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@contextmanager
def start_smtp_server(**smtp_settings: Any) -> Iterator[SMTPServer]:
    """Run an aiosmtpd server on a free port of 127.0.0.1 until the block ends.

    ``smtp_settings`` go to aiosmtpd's SMTP class (``authenticator``,
    ``tls_context``, ...) or its Controller (``ssl_context``).
    """
    for attempt in range(5):
        server = SMTPServer(HOST, free_port())
        # server_hostname avoids a DNS lookup of this machine's name.
        controller = Controller(
            CollectingHandler(server), hostname=HOST, port=server.port, server_hostname="localhost", **smtp_settings
        )
        try:
            controller.start()
        except OSError as error:  # another process took the port in between
            if error.errno != errno.EADDRINUSE or attempt == 4:
                raise
            continue
        break
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    """A plain SMTP server that accepts every message, without a login."""
    with start_smtp_server() as server:
        yield server


@pytest.fixture
def smtp_auth_server() -> Iterator[SMTPServer]:
    """An SMTP server that offers AUTH (without TLS) and accepts only USERNAME / PASSWORD."""
    with start_smtp_server(authenticator=check_password, auth_require_tls=False) as server:
        yield server
