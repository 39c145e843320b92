"""The return-link email, sent to a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.headerregistry import Address
from pathlib import Path
from typing import Any

import pytest

from survey_app import create_app, mail

from . import smtp
from .smtp import HOST, PASSWORD, USERNAME, free_port, start_smtp_server

# The fixtures of tests/smtp.py, made visible to pytest in this module.
smtp_server = smtp.smtp_server
smtp_auth_server = smtp.smtp_auth_server

ADDRESS = "parent.carer+survey@example.org"
SUBJECT = "Your link back to the survey – Cymraeg: ŵ"
SECRET_LINK = "https://survey.example.gov.uk/return/4f9c1b2e7d0a4c55b3e8a1f6d2c9e7b0"
BODY = f"Use this link to carry on where you left off:\n\n{SECRET_LINK}\n\nCymraeg: ŵ\n"


@pytest.fixture
def mail_app(tmp_path):
    """Enter the context of a real app with these MAIL_* settings."""

    @contextmanager
    def _mail_app(**settings: Any) -> Iterator[None]:
        app = create_app(
            {
                "APP_ENV": "testing",
                "SECRET_KEY": "x",
                "DATABASE_URL": "sqlite:///" + str(tmp_path / "t.db"),
                **settings,
            }
        )
        with app.app_context():
            yield

    return _mail_app


@pytest.fixture
def mail_log(caplog) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="survey_app.mail")
    return caplog


def records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "survey_app.mail"]


def assert_nothing_private_logged(caplog: pytest.LogCaptureFixture, *secrets: str) -> None:
    for record in records(caplog):
        assert record.exc_info is None, "a traceback would show smtplib's errors, which can hold the address"
        text = record.getMessage()
        for secret in (ADDRESS, SECRET_LINK, BODY, SUBJECT, "Cymraeg", *secrets):
            assert secret.lower() not in text.lower()


def assert_safe_failure(excinfo: pytest.ExceptionInfo[mail.MailNotSent], *secrets: str) -> str:
    """The exception says why in plain English, chains nothing and holds nothing private."""
    error = excinfo.value
    assert error.__cause__ is None
    assert error.__context__ is None
    message = str(error)
    assert message.startswith("The email was not sent: ")
    assert "Traceback" not in message
    for secret in (ADDRESS, SECRET_LINK, SUBJECT, "Cymraeg", *secrets):
        assert secret.lower() not in message.lower()
    return message


# Sending


def test_the_message_arrives_with_its_headers_and_utf8_body(mail_app, smtp_server, mail_log):
    with mail_app(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port):
        assert mail.is_configured()
        mail.send(ADDRESS, SUBJECT, BODY)

    [message] = smtp_server.messages
    sender = message["From"].addresses[0]
    assert sender == Address("Have your say about SEND", addr_spec="send.engagement@example.gov.uk")
    assert message["To"] == ADDRESS
    assert smtp_server.envelope_recipients == [[ADDRESS]]
    assert message["Subject"] == SUBJECT
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message.get_content() == BODY
    assert "Cymraeg: ŵ" in message.get_content()
    assert message["Date"].datetime.tzinfo is not None
    assert abs(message["Date"].datetime.timestamp() - time.time()) < 60
    assert message["Message-ID"].startswith("<")
    assert message["Message-ID"].endswith("@example.gov.uk>")
    assert smtp_server.logins == [None]

    assert [record.levelname for record in records(mail_log)] == ["INFO"]
    assert "sent" in records(mail_log)[0].getMessage()
    assert_nothing_private_logged(mail_log)


def test_mail_from_and_service_name_come_from_the_settings(mail_app, smtp_server):
    settings = {"MAIL_FROM": "no-reply@council.example", "SERVICE_NAME": "Dweud eich dweud: ŵ"}
    with mail_app(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port, **settings):
        mail.send(ADDRESS, "Subject", "Body")
    [message] = smtp_server.messages
    assert message["From"].addresses[0] == Address("Dweud eich dweud: ŵ", addr_spec="no-reply@council.example")
    assert message["Message-ID"].endswith("@council.example>")


def test_each_message_has_its_own_message_id(mail_app, smtp_server):
    with mail_app(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port):
        mail.send(ADDRESS, "One", "Body")
        mail.send(ADDRESS, "Two", "Body")
    first, second = smtp_server.messages
    assert first["Message-ID"] != second["Message-ID"]


def test_an_internationalised_domain_is_sent_in_its_ascii_form(mail_app, smtp_server):
    with mail_app(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port):
        mail.send("rhiant@caerdydd-ŵ.example", "Subject", "Body")
    [message] = smtp_server.messages
    assert message["To"] == "rhiant@xn--caerdydd--j9b.example"
    assert smtp_server.envelope_recipients == [["rhiant@xn--caerdydd--j9b.example"]]


# Not configured, and failures


def test_without_a_mail_server_mail_is_not_configured(mail_app, mail_log):
    with mail_app(MAIL_SERVER=""):
        assert not mail.is_configured()
        with pytest.raises(mail.MailNotSent) as excinfo:
            mail.send(ADDRESS, SUBJECT, BODY)
    assert "MAIL_SERVER" in assert_safe_failure(excinfo)
    assert_nothing_private_logged(mail_log)


def test_a_server_that_is_not_listening(mail_app, mail_log):
    port = free_port()  # closed again at once: nothing listens there
    with mail_app(MAIL_SERVER=HOST, MAIL_PORT=port):
        with pytest.raises(mail.MailNotSent) as excinfo:
            mail.send(ADDRESS, SUBJECT, BODY)
    message = assert_safe_failure(excinfo)
    assert f"{HOST} port {port} refused the connection" in message
    [record] = records(mail_log)
    assert record.levelname == "WARNING"
    assert "refused the connection" in record.getMessage()
    assert_nothing_private_logged(mail_log)


def test_a_server_that_never_answers_times_out(mail_app, mail_log):
    with socket.socket() as silent:  # accepts connections (the backlog) but never says hello
        silent.bind((HOST, 0))
        silent.listen()
        started = time.monotonic()
        with mail_app(MAIL_SERVER=HOST, MAIL_PORT=silent.getsockname()[1], MAIL_TIMEOUT_SECONDS=1):
            with pytest.raises(mail.MailNotSent) as excinfo:
                mail.send(ADDRESS, SUBJECT, BODY)
        assert time.monotonic() - started < 10
    assert "did not answer within 1 second." in assert_safe_failure(excinfo)
    assert_nothing_private_logged(mail_log)


def test_a_refused_recipient(mail_app, smtp_server, mail_log):
    smtp_server.refuse.add(ADDRESS)  # the server's 550 reply repeats the address
    with mail_app(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port):
        with pytest.raises(mail.MailNotSent) as excinfo:
            mail.send(ADDRESS, SUBJECT, BODY)
    message = assert_safe_failure(excinfo)
    assert "refused the recipient (code 550: 5.1.1 <[address]>: Recipient address rejected" in message
    assert smtp_server.messages == []
    assert_nothing_private_logged(mail_log)


def test_starttls_asked_of_a_server_that_does_not_offer_it(mail_app, smtp_server, mail_log):
    with mail_app(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port, MAIL_USE_TLS=True):
        with pytest.raises(mail.MailNotSent) as excinfo:
            mail.send(ADDRESS, SUBJECT, BODY)
    assert "STARTTLS" in assert_safe_failure(excinfo)
    assert smtp_server.messages == []
    assert_nothing_private_logged(mail_log)


def test_implicit_tls_to_a_plain_server_fails(mail_app, smtp_server, mail_log):
    with mail_app(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port, MAIL_USE_SSL=True):
        with pytest.raises(mail.MailNotSent) as excinfo:
            mail.send(ADDRESS, SUBJECT, BODY)
    assert "secure (TLS) connection" in assert_safe_failure(excinfo)
    assert smtp_server.messages == []
    assert_nothing_private_logged(mail_log)


def test_tls_and_ssl_together_are_refused(mail_app, smtp_server):
    with mail_app(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port, MAIL_USE_TLS=True, MAIL_USE_SSL=True):
        with pytest.raises(mail.MailNotSent) as excinfo:
            mail.send(ADDRESS, SUBJECT, BODY)
    assert "both set" in assert_safe_failure(excinfo)
    assert smtp_server.messages == []


# Login


def test_login_with_the_right_password(mail_app, smtp_auth_server, mail_log):
    with mail_app(
        MAIL_SERVER=smtp_auth_server.host,
        MAIL_PORT=smtp_auth_server.port,
        MAIL_USERNAME=USERNAME,
        MAIL_PASSWORD=PASSWORD,
    ):
        mail.send(ADDRESS, SUBJECT, BODY)
    assert len(smtp_auth_server.messages) == 1
    assert smtp_auth_server.logins == [USERNAME]
    assert_nothing_private_logged(mail_log, PASSWORD)


def test_login_with_the_wrong_password(mail_app, smtp_auth_server, mail_log):
    with mail_app(
        MAIL_SERVER=smtp_auth_server.host,
        MAIL_PORT=smtp_auth_server.port,
        MAIL_USERNAME=USERNAME,
        MAIL_PASSWORD="not the password",
    ):
        with pytest.raises(mail.MailNotSent) as excinfo:
            mail.send(ADDRESS, SUBJECT, BODY)
    assert "refused the login (code 535" in assert_safe_failure(excinfo, "not the password")
    assert smtp_auth_server.messages == []
    assert_nothing_private_logged(mail_log, "not the password")


def test_without_a_username_no_login_is_tried(mail_app, smtp_auth_server):
    with mail_app(MAIL_SERVER=smtp_auth_server.host, MAIL_PORT=smtp_auth_server.port):
        mail.send(ADDRESS, SUBJECT, BODY)
    assert smtp_auth_server.logins == [None]


# TLS that works, against a certificate made for the test


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the TLS tests make a certificate with the openssl command")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "1", "-subj", "/CN=localhost",
            "-addext", f"subjectAltName=IP:{HOST},DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def server_tls_context(certificate: tuple[Path, Path]):
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def test_starttls(mail_app, certificate, monkeypatch, mail_log):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # the client trusts the test certificate
    with start_smtp_server(tls_context=server_tls_context(certificate), require_starttls=True) as server:
        with mail_app(MAIL_SERVER=server.host, MAIL_PORT=server.port, MAIL_USE_TLS=True):
            mail.send(ADDRESS, SUBJECT, BODY)
    [message] = server.messages
    assert message.get_content() == BODY
    assert_nothing_private_logged(mail_log)


def test_starttls_with_an_untrusted_certificate(mail_app, certificate, mail_log):
    with start_smtp_server(tls_context=server_tls_context(certificate), require_starttls=True) as server:
        with mail_app(MAIL_SERVER=server.host, MAIL_PORT=server.port, MAIL_USE_TLS=True):
            with pytest.raises(mail.MailNotSent) as excinfo:
                mail.send(ADDRESS, SUBJECT, BODY)
    assert "certificate" in assert_safe_failure(excinfo)
    assert server.messages == []
    assert_nothing_private_logged(mail_log)


def test_implicit_tls(mail_app, certificate, monkeypatch, mail_log):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    with start_smtp_server(ssl_context=server_tls_context(certificate)) as server:
        with mail_app(MAIL_SERVER=server.host, MAIL_PORT=server.port, MAIL_USE_SSL=True):
            mail.send(ADDRESS, SUBJECT, BODY)
    [message] = server.messages
    assert message["Subject"] == SUBJECT
    assert_nothing_private_logged(mail_log)


# Header injection


@pytest.mark.parametrize(
    ("to", "subject"),
    [
        ("a@b.com\nBcc: x@y.com", "Subject"),
        ("a@b.com\r\nBcc: x@y.com", "Subject"),
        (ADDRESS, "Subject\r\nBcc: x@y.com"),
        (ADDRESS, "Subject\nBcc: x@y.com"),
        (ADDRESS, "Subject\rBcc: x@y.com"),
        (ADDRESS, "Subject\u2028Bcc: x@y.com"),
        (ADDRESS, "Subject\x0bBcc: x@y.com"),
    ],
)
def test_header_injection_is_refused(mail_app, smtp_server, to, subject):
    with mail_app(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port):
        with pytest.raises(ValueError, match="line breaks"):
            mail.send(to, subject, BODY)
    assert smtp_server.messages == []


def test_an_invalid_address_is_refused_before_sending(mail_app, smtp_server):
    with mail_app(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port):
        with pytest.raises(ValueError, match="not a valid email address") as excinfo:
            mail.send("a@b, x@y.com", SUBJECT, BODY)
    assert "x@y.com" not in str(excinfo.value)
    assert smtp_server.messages == []


# Checking an address


@pytest.mark.parametrize(
    "address",
    [
        "someone@example.com",
        "first.last@example.gov.uk",
        "parent.carer+survey@example.org",
        "o'brien@example.co.uk",
        "UPPER@EXAMPLE.COM",
        "a@b.co",
        "x_y-z@sub.domain.example.com",
        "rhiant@caerdydd-ŵ.example",
        "a" * 64 + "@example.com",
        "a@" + "b" * 63 + ".com",
        "a" * 64 + "@" + ("b" * 60 + ".") * 3 + "c" * 6,  # 254 characters
    ],
)
def test_valid_addresses(address):
    assert mail.is_valid_address(address)


@pytest.mark.parametrize(
    "address",
    [
        "",
        "no-at-sign",
        "a@b",
        "a @b.com",
        "a@b .com",
        " a@b.com",
        "a@b.com ",
        "a@b.com\nBcc: x@y.com",
        "a@b.com\r\n",
        "a@@b.com",
        "a@b@c.com",
        "@b.com",
        "a@.com",
        "a@b.",
        "a@b..com",
        "a..b@c.com",
        ".a@b.com",
        "a.@b.com",
        "a@-b.com",
        "a@b-.com",
        "a@b.c",
        "a@b.123",
        "a@b_c.com",
        "a@[127.0.0.1]",
        '"a b"@c.com',
        "a,b@c.com",
        "Name <a@b.com>",
        "a" * 65 + "@example.com",
        "a@" + "b" * 64 + ".com",
        "a" * 64 + "@" + ("b" * 60 + ".") * 3 + "c" * 7,  # 255 characters
        "a" * 290 + "@example.com",  # 302 characters
    ],
)
def test_invalid_addresses(address):
    assert not mail.is_valid_address(address)


def test_a_300_character_address_is_refused():
    address = "a" * 46 + "@" + ("b" * 40 + ".") * 6 + "c" * 7
    assert len(address) == 300
    assert not mail.is_valid_address(address)
    assert not mail.is_valid_address(123)  # type: ignore[arg-type]
