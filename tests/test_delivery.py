"""Delivery against a real SMTP server on loopback (aiosmtpd): content, exactly-once, retries, secrecy."""

from __future__ import annotations

import email
import shutil
import socket
import sqlite3
import subprocess
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from campaign_report.pipeline.delivery import deliver, watch
from tests.conftest import demo_config, write_config

PASSWORD = "s3cret-Pass-42x"
RECIPIENTS = ("cmo@example.com", "Маркетинг <marketing@example.com>")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[list[str]] = []  # each message's envelope recipients

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        self.envelopes.append(list(envelope.rcpt_tos))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.password.decode() == PASSWORD
    return AuthResult(success=ok)


@pytest.fixture()
def tls_files(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed: no certificate for the STARTTLS test")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def _start(inbox: Inbox, port: int, tls_files=None) -> Controller:
    import ssl

    kwargs = {}
    if tls_files is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*tls_files)
        kwargs = dict(tls_context=context, require_starttls=True, authenticator=_authenticator, auth_required=True)
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller


def _setup(small_run, tmp_path: Path, port: int, security: str = "none", username: bool = False) -> Path:
    out = tmp_path / "out"
    shutil.copytree(small_run.output_dir, out)
    data = small_run.output_dir.parent
    del data
    extra = f"""
[email]
to = ["cmo@example.com", "Маркетинг <marketing@example.com>"]
smtp_host = "127.0.0.1"
smtp_port = {port}
security = "{security}"
verify_tls = false
retries = 3
backoff_seconds = 0.2
attach_target_list = true
""" + ('username = "reports@example.com"\n' if username else "")
    text = demo_config(Path("/nonexistent"), out, extra=extra)
    return write_config(tmp_path, text)


def test_message_arrives_intact_with_cyrillic_subject(small_run, tmp_path, tls_files, monkeypatch, capsys):
    inbox, port = Inbox(), _free_port()
    controller = _start(inbox, port, tls_files)
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    try:
        config = _setup(small_run, tmp_path, port, security="starttls", username=True)
        assert deliver(config, None) == 0
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    msg = inbox.messages[0]
    assert msg["Subject"].index("Email-кампания «Осенние скидки»") > 0  # the decision first, the title after it
    assert "=?utf-8?" in msg.as_string().split("\n\n")[0].lower() or "=?UTF-8?" in msg.as_string()
    assert "Маркетинг" in msg["To"]
    attachments = {part.get_filename(): part.get_payload(decode=True) for part in msg.iter_attachments()}
    out = tmp_path / "out"
    assert attachments["Отчёт по кампании.pdf"] == (out / "brief.pdf").read_bytes()
    assert attachments["Итоги кампании.pptx"] == (out / "deck.pptx").read_bytes()
    assert attachments["target_list.csv"] == (out / "target_list.csv").read_bytes()
    body = msg.get_body(("plain",)).get_content()
    assert "Ключевые цифры" in body and ("сработал" in body or "эффекта не обнаружено" in body.lower())
    assert msg.get_body(("html",)) is not None
    printed = capsys.readouterr()
    for text in (printed.out, printed.err, config.read_text(encoding="utf-8"), msg.as_string()):
        assert PASSWORD not in text
    for path in out.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes()


def test_server_down_then_up_delivers_exactly_once(small_run, tmp_path):
    port = _free_port()
    config = _setup(small_run, tmp_path, port)
    assert deliver(config, None) == 1  # nobody listening: three attempts, recorded, non-zero exit
    for recipient in RECIPIENTS:
        assert _statuses(tmp_path, recipient) == ["sending", "failed"] * 3
    inbox = Inbox()
    controller = _start(inbox, port)
    try:
        assert deliver(config, None) == 0
        assert deliver(config, None) == 0  # unchanged inputs: nothing is sent twice
        assert len(inbox.messages) == 1
        assert deliver(config, None, force=True) == 0
        assert len(inbox.messages) == 2
    finally:
        controller.stop()
    for recipient in RECIPIENTS:
        assert _statuses(tmp_path, recipient) == ["sending", "failed"] * 3 + ["sending", "data_sent", "sent"] * 2


def test_watch_runs_and_sends_once_per_change(small_demo, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(small_demo, data)
    inbox, port = Inbox(), _free_port()
    extra = f'[email]\nto = ["cmo@example.com"]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\nsecurity = "none"\n'
    config = write_config(tmp_path, demo_config(data, tmp_path / "out", extra=extra))
    controller = _start(inbox, port)
    try:
        assert watch(config, 0, once=True) == 0
        assert watch(config, 0, once=True) == 0
        assert len(inbox.messages) == 1
        with open(data / "assignment.csv", "a", encoding="utf-8") as fh:
            fh.write("999999999,control\n")  # a new export arrives
        assert watch(config, 0, once=True) == 0
        assert len(inbox.messages) == 2
    finally:
        controller.stop()


def test_password_in_config_is_refused(tmp_path):
    from campaign_report.analysis.config import load_config
    from campaign_report.analysis.errors import ConfigError

    text = '[report]\ntitle = "t"\n[email]\nto = ["a@b.c"]\npassword = "x"\n'
    with pytest.raises(ConfigError, match="SMTP_PASSWORD"):
        load_config(write_config(tmp_path, text))


class FaultyInbox(Inbox):
    """A loopback server that fails in the ways real ones do: after taking the data, slowly, by dropping the
    connection once the message is stored, or by refusing one recipient."""

    def __init__(self, quit_reply: str | None = None, data_delay: float = 0.0, lose_first_reply: bool = False,
                 drop_after_data: bool = False, refuse: str | None = None):
        super().__init__()
        self.quit_reply, self.data_delay, self.lose_first_reply = quit_reply, data_delay, lose_first_reply
        self.drop_after_data, self.refuse = drop_after_data, refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address == self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        import asyncio

        await asyncio.sleep(self.data_delay)
        await super().handle_DATA(server, session, envelope)
        if self.drop_after_data:
            server.transport.close()  # stored, and the connection is gone before the "250" is written
            return "250 OK"
        if self.lose_first_reply and len(self.messages) == 1:
            return "451 Requested action aborted: local error"  # the data arrived, the client hears a failure
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope):  # noqa: N802
        return self.quit_reply or "221 Bye"


def _statuses(tmp_path: Path, recipient: str = "cmo@example.com") -> list[str]:
    ledger = sqlite3.connect(tmp_path / "out" / "ledger.sqlite")
    return [r[0] for r in ledger.execute("SELECT status FROM deliveries WHERE recipients = ? ORDER BY id",
                                         (recipient,))]


def test_quit_failure_after_the_data_was_accepted_is_a_delivery(small_run, tmp_path):
    inbox, port = FaultyInbox(quit_reply="421 Service closing transmission channel"), _free_port()
    controller = _start(inbox, port)
    try:
        config = _setup(small_run, tmp_path, port)
        assert deliver(config, None) == 0
        assert deliver(config, None) == 0  # recorded as sent: the next send has nothing to do
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    assert _statuses(tmp_path) == ["sending", "data_sent", "sent"]


def test_two_senders_at_once_send_one_message(small_run, tmp_path):
    import threading

    inbox, port = FaultyInbox(data_delay=1.0), _free_port()
    controller = _start(inbox, port)
    codes: list[int] = []
    try:
        config = _setup(small_run, tmp_path, port)
        senders = [threading.Thread(target=lambda: codes.append(deliver(config, None))) for _ in range(2)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
    finally:
        controller.stop()
    assert codes == [0, 0]
    assert len(inbox.messages) == 1
    assert _statuses(tmp_path).count("sent") == 1


def test_a_crash_after_the_data_went_out_is_unknown_and_never_resent_by_itself(small_run, tmp_path, monkeypatch,
                                                                              capsys):
    """The process dies after the server took the data, before the ledger heard "250": the message may be in
    the inbox. Before: the next send mailed it again. Now it says so and waits for --force."""
    from campaign_report.pipeline.ledger import Ledger

    inbox, port = Inbox(), _free_port()
    controller = _start(inbox, port)
    real_record = Ledger.record_delivery

    def crash_on_sent(self, key, recipients, status, *args, **kwargs):
        if status == "sent":
            raise KeyboardInterrupt
        return real_record(self, key, recipients, status, *args, **kwargs)

    try:
        config = _setup(small_run, tmp_path, port)
        monkeypatch.setattr(Ledger, "record_delivery", crash_on_sent)
        with pytest.raises(KeyboardInterrupt):
            deliver(config, None)
        monkeypatch.setattr(Ledger, "record_delivery", real_record)
        assert _statuses(tmp_path) == ["sending", "data_sent"]
        capsys.readouterr()
        assert deliver(config, None) == 0 and deliver(config, None) == 0
        assert len(inbox.messages) == 1
        assert "--force" in capsys.readouterr().err
        assert deliver(config, None, force=True) == 0  # a person decided to send it again
    finally:
        controller.stop()
    ids = [m["Message-ID"] for m in inbox.messages]
    assert len(ids) == 2 and ids[0] == ids[1]  # the same message: a mail system that has it can tell


def test_a_crash_before_the_data_resends_with_the_same_message_id(small_run, tmp_path, monkeypatch):
    import campaign_report.pipeline.delivery as delivery

    inbox, port = Inbox(), _free_port()
    controller = _start(inbox, port)
    real_open = delivery.open_session

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # killed while connecting: nothing reached the server

    try:
        config = _setup(small_run, tmp_path, port)
        monkeypatch.setattr(delivery, "open_session", crash)
        with pytest.raises(KeyboardInterrupt):
            deliver(config, None)
        monkeypatch.setattr(delivery, "open_session", real_open)
        assert _statuses(tmp_path) == ["sending"]
        assert deliver(config, None) == 0 and deliver(config, None) == 0
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    assert _statuses(tmp_path) == ["sending", "sending", "data_sent", "sent"]


def test_retry_after_a_lost_reply_keeps_the_message_id(small_run, tmp_path):
    inbox, port = FaultyInbox(lose_first_reply=True), _free_port()
    controller = _start(inbox, port)
    try:
        config = _setup(small_run, tmp_path, port)
        assert deliver(config, None) == 0
    finally:
        controller.stop()
    assert _statuses(tmp_path) == ["sending", "data_sent", "failed", "sending", "data_sent", "sent"]
    assert len({m["Message-ID"] for m in inbox.messages}) == 1 and len(inbox.messages) == 2


def test_a_slow_reply_to_the_final_dot_is_waited_for_not_resent(small_run, tmp_path, monkeypatch):
    """A server that stores the message and answers the final dot after 45 s (RFC 5321 allows 10 minutes)
    got 4 copies: the client gave up at 30 s and retried. Time is scaled here: every SMTP connection's timeout
    is cut 15 times (30 s -> 2 s), and the server answers after 4 s (45 s in real time would be 60)."""
    import smtplib

    real_init = smtplib.SMTP.__init__

    def scaled(self, host="", port=0, local_hostname=None, timeout=30.0, source_address=None):
        real_init(self, host, port, local_hostname, timeout / 15, source_address)

    monkeypatch.setattr(smtplib.SMTP, "__init__", scaled)
    inbox, port = FaultyInbox(data_delay=4.0), _free_port()
    controller = _start(inbox, port)
    try:
        config = _setup(small_run, tmp_path, port)
        assert deliver(config, None) == 0
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    assert _statuses(tmp_path) == ["sending", "data_sent", "sent"]


def test_a_connection_dropped_after_the_data_is_unknown_not_a_copy(small_run, tmp_path, capsys):
    inbox, port = FaultyInbox(drop_after_data=True), _free_port()
    controller = _start(inbox, port)
    try:
        config = _setup(small_run, tmp_path, port)
        assert deliver(config, None) == 1  # a person must look: said, and a non-zero exit
        printed = capsys.readouterr()
        assert "--force" in printed.err and "Отправлено" not in printed.out
        assert deliver(config, None) == 0  # not repeated by itself
        assert len(inbox.messages) == 1
        inbox.drop_after_data = False
        assert deliver(config, None, force=True) == 0
    finally:
        controller.stop()
    assert len(inbox.messages) == 2
    assert _statuses(tmp_path)[:3] == ["sending", "data_sent", "unknown"]


def test_a_refused_recipient_is_not_reported_as_sent_and_is_retried_alone(small_run, tmp_path, capsys):
    """Two recipients, a 550 for the second: before, the console said "Sent: a, b", the ledger said sent, and b
    never got the report."""
    inbox, port = FaultyInbox(refuse="marketing@example.com"), _free_port()
    controller = _start(inbox, port)
    try:
        config = _setup(small_run, tmp_path, port)
        assert deliver(config, None) == 1
        printed = capsys.readouterr()
        sent_line = next(line for line in printed.out.splitlines() if line.startswith("Отправлено"))
        assert "cmo@example.com" in sent_line and "marketing@example.com" not in sent_line
        assert "550" in printed.err and "marketing@example.com" in printed.err
        assert _statuses(tmp_path, RECIPIENTS[1])[-1] == "refused"
        inbox.refuse = None  # the mailbox exists now
        assert deliver(config, None) == 0
        assert deliver(config, None) == 0
    finally:
        controller.stop()
    assert inbox.envelopes == [["cmo@example.com"], ["marketing@example.com"]]  # b alone, a never twice
    assert len({m["Message-ID"] for m in inbox.messages}) == 1  # the same message, delivered to each once


@pytest.mark.parametrize("line, words", [("retries = 0", "retries must be from 1"),
                                         ("smtp_port = 70000", "smtp_port must be from 1 to 65535"),
                                         ("backoff_seconds = -1", "backoff_seconds must be from 0")])
def test_delivery_settings_are_checked_when_the_config_is_read(tmp_path, line, words):
    from campaign_report.analysis.config import load_config
    from campaign_report.analysis.errors import ConfigError

    text = f'[report]\ntitle = "t"\n[email]\nto = ["a@b.c"]\n{line}\n'
    with pytest.raises(ConfigError, match=words):
        load_config(write_config(tmp_path, text))
