"""E-mail delivery of the last good run: once per change of the inputs, retried with backoff.

Exactly once: a message counts as sent as soon as the server accepted its data, and that is recorded
before the session is closed, so a failure to say goodbye (a 421 to QUIT) is not a failed delivery.
Check-and-send holds a lock on the output folder, so two senders (overlapping cron runs) send one
message. Every attempt carries a Message-ID fixed for the inputs, so a retry after a timeout or after a
crash between sending and recording is recognisable as the same message by the recipients' mail systems.

Delivery only sends files that the run rendered (brief, deck, optionally the target list, and the
message parts in email.json). The SMTP password comes from the environment variable SMTP_PASSWORD,
never from config.toml, and is never printed or written anywhere.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import mimetypes
import os
import smtplib
import ssl
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from campaign_report.analysis.config import EmailConfig, load_config
from campaign_report.analysis.errors import ConfigError, UserError
from campaign_report.pipeline.ledger import Ledger, inputs_key
from campaign_report.pipeline.messages import say
from campaign_report.pipeline.publish import current_run

PASSWORD_ENV = "SMTP_PASSWORD"
LOCK = ".delivery.lock"


def message_id(key: str, recipients: str, copy: int) -> str:
    """Fixed for the inputs, the recipients and the copy (a forced resend is a new copy, a retry is not)."""
    digest = hashlib.sha256(f"{key}|{recipients}|{copy}".encode()).hexdigest()[:32]
    return f"<{digest}@campaign-report>"


@contextlib.contextmanager
def _folder_lock(out: Path) -> Iterator[None]:
    """An exclusive lock on the output folder for check-and-send; a second sender waits, then finds it sent."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks in the standard library; one sender at a time is assumed
        yield
        return
    with open(out / LOCK, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_message(parts: dict[str, str], out_dir: Path, settings: EmailConfig, msgid: str) -> EmailMessage:
    """The message with a plain-text body, an HTML alternative and the documents attached."""
    msg = EmailMessage()
    msg["Subject"] = parts["subject"]
    msg["From"] = settings.sender or settings.username or "campaign-report@localhost"
    msg["To"] = ", ".join(settings.to)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = msgid
    msg.set_content(parts["text"])
    msg.add_alternative(parts["html"], subtype="html")
    files = [(out_dir / "brief.pdf", parts["brief_name"]), (out_dir / "deck.pptx", parts["deck_name"])]
    if settings.attach_target_list and (out_dir / "target_list.csv").exists():
        files.append((out_dir / "target_list.csv", "target_list.csv"))
    for path, name in files:
        kind, _ = mimetypes.guess_type(path.name)
        maintype, subtype = (kind or "application/octet-stream").split("/")
        msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=name)
    return msg


def send_message(msg: EmailMessage, settings: EmailConfig, password: str | None,
                 accepted: Callable[[], None] = lambda: None) -> None:
    """One SMTP session: SSL, STARTTLS or plain, login when a username is configured.

    `accepted` runs as soon as the server took the data; errors after that (closing the session) are
    ignored, because the message is on its way.
    """
    context = ssl.create_default_context()
    if not settings.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if settings.security == "ssl":
        server: smtplib.SMTP = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, context=context, timeout=30)
    else:
        server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30)
    try:
        if settings.security == "starttls":
            server.starttls(context=context)
        if settings.username:
            server.login(settings.username, password or "")
        server.send_message(msg)
    except BaseException:
        server.close()
        raise
    accepted()
    try:
        server.quit()
    except (smtplib.SMTPException, OSError):
        server.close()


def deliver(config_path: str | Path, out_dir: Path | None, force: bool = False,
            console: Console | None = None) -> int:
    """Send the last good run unless these inputs were already sent to these recipients (0 = done)."""
    console = console or Console()
    config = load_config(config_path)
    settings = config.email
    lang = config.report.language
    if settings is None or not settings.to:
        raise ConfigError("[email] with at least one address in 'to' is needed to send", config.shown_path)
    password = os.environ.get(PASSWORD_ENV)
    if password is not None and not password.isascii():
        raise ConfigError(f"{PASSWORD_ENV} holds non-ASCII characters; SMTP login accepts ASCII passwords only",
                          "environment")
    if settings.username and not password:
        raise ConfigError(f"[email] username is set: put the SMTP password in the {PASSWORD_ENV} environment "
                          "variable", config.shown_path)
    out = Path(out_dir).resolve() if out_dir else config.output_dir
    if not (out / "email.json").exists():
        raise UserError(f"{out}: no finished run to send (run campaign-report run first)")
    ledger = Ledger(out)
    try:
        with _folder_lock(out):
            # The key of the run being sent; hashing the inputs is only needed for a folder without one.
            key = ledger.last_good_key() or inputs_key(config)
            return _send_once(ledger, out, settings, password, force, lang, console, key)
    finally:
        ledger.close()


def _send_once(ledger: Ledger, out: Path, settings: EmailConfig, password: str | None, force: bool, lang: str,
               console: Console, key: str) -> int:
    recipients = ", ".join(settings.to)
    if ledger.was_sent(key, recipients) and not force:
        console.print(say(lang, "already_sent"))
        return 0
    interrupted = ledger.interrupted_message_id(key, recipients)
    msgid = interrupted or message_id(key, recipients, ledger.sent_count(key, recipients))
    if interrupted:
        console.print(f"[yellow]{say(lang, 'interrupted', msgid=escape(msgid))}[/yellow]")
    run = current_run(out)  # resolved once: the message and its attachments come from one run
    parts = json.loads((run / "email.json").read_text(encoding="utf-8"))
    msg = build_message(parts, run, settings, msgid)
    for attempt in range(1, settings.retries + 1):
        ledger.record_delivery(key, recipients, "sending", attempt, message_id=msgid)
        try:
            send_message(msg, settings, password, accepted=functools.partial(
                ledger.record_delivery, key, recipients, "sent", attempt, message_id=msgid))
        except (smtplib.SMTPException, OSError) as exc:
            detail = f"{type(exc).__name__}: {exc}"
            detail = detail.replace(password, "***") if password else detail
            ledger.record_delivery(key, recipients, "failed", attempt, detail, message_id=msgid)
            console.print(f"[yellow]{say(lang, 'attempt_failed', attempt=attempt)}[/yellow] {escape(detail)}")
            if attempt < settings.retries:
                time.sleep(settings.backoff_seconds * 2 ** (attempt - 1))
            continue
        console.print(say(lang, "sent", to=escape(recipients)))
        return 0
    console.print(f"[red]{say(lang, 'error')}:[/red] {say(lang, 'not_sent')}")
    return 1


def watch(config_path: str | Path, interval: float, once: bool, console: Console | None = None) -> int:
    """Run and send once per change of the inputs (by content hash); --once for cron."""
    from campaign_report.pipeline.report import run_report

    console = console or Console()
    while True:
        config = load_config(config_path)
        ledger = Ledger(config.output_dir)
        changed = inputs_key(config) != ledger.last_good_key()
        ledger.close()
        code = 0
        try:
            if changed:
                console.print(say(config.report.language, "inputs_changed"))
                run_report(config_path)
            code = deliver(config_path, None, console=console)
        except UserError as exc:
            console.print(f"[red]{say(config.report.language, 'error')}:[/red] {escape(str(exc))}")
            code = exc.exit_code
        if once:
            return code
        time.sleep(interval)
