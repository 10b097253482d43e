"""E-mail delivery of the last good run: once per change of the inputs, retried with backoff.

Delivery only sends files that the run rendered (brief, deck, optionally the target list, and the
message parts in email.json). The SMTP password comes from the environment variable SMTP_PASSWORD,
never from config.toml, and is never printed or written anywhere.
"""

from __future__ import annotations

import json
import mimetypes
import os
import smtplib
import ssl
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from campaign_report.analysis.config import EmailConfig, load_config
from campaign_report.analysis.errors import ConfigError, UserError
from campaign_report.pipeline.ledger import Ledger, inputs_key
from campaign_report.pipeline.messages import say

PASSWORD_ENV = "SMTP_PASSWORD"


def build_message(parts: dict[str, str], out_dir: Path, settings: EmailConfig) -> EmailMessage:
    """The message with a plain-text body, an HTML alternative and the documents attached."""
    msg = EmailMessage()
    msg["Subject"] = parts["subject"]
    msg["From"] = settings.sender or settings.username or "campaign-report@localhost"
    msg["To"] = ", ".join(settings.to)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="campaign-report")
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


def send_message(msg: EmailMessage, settings: EmailConfig, password: str | None) -> None:
    """One SMTP session: SSL, STARTTLS or plain, login when a username is configured."""
    context = ssl.create_default_context()
    if not settings.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if settings.security == "ssl":
        server: smtplib.SMTP = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, context=context, timeout=30)
    else:
        server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30)
    with server:
        if settings.security == "starttls":
            server.starttls(context=context)
        if settings.username:
            server.login(settings.username, password or "")
        server.send_message(msg)


def deliver(config_path: str | Path, out_dir: Path | None, force: bool = False,
            console: Console | None = None) -> int:
    """Send the last good run unless these inputs were already sent to these recipients (0 = done)."""
    console = console or Console()
    config = load_config(config_path)
    settings = config.email
    lang = config.report.language
    if settings is None or not settings.to:
        raise ConfigError("config.toml: [email] with at least one address in 'to' is needed to send")
    password = os.environ.get(PASSWORD_ENV)
    if password is not None and not password.isascii():
        raise ConfigError(f"{PASSWORD_ENV} holds non-ASCII characters; SMTP login accepts ASCII passwords only")
    if settings.username and not password:
        raise ConfigError(f"[email] username is set: put the SMTP password in the {PASSWORD_ENV} environment "
                          "variable")
    out = Path(out_dir).resolve() if out_dir else config.output_dir
    if not (out / "email.json").exists():
        raise UserError(f"{out}: no finished run to send (run campaign-report run first)")
    ledger = Ledger(out)
    try:
        key = ledger.last_good_key() or inputs_key(config)
        recipients = ", ".join(settings.to)
        if ledger.was_sent(key, recipients) and not force:
            console.print(say(lang, "already_sent"))
            return 0
        parts = json.loads((out / "email.json").read_text(encoding="utf-8"))
        msg = build_message(parts, out, settings)
        for attempt in range(1, settings.retries + 1):
            try:
                send_message(msg, settings, password)
            except (smtplib.SMTPException, OSError) as exc:
                detail = f"{type(exc).__name__}: {exc}".replace(password, "***") if password else str(exc)
                ledger.record_delivery(key, recipients, "failed", attempt, detail)
                console.print(f"[yellow]{say(lang, 'attempt_failed', attempt=attempt)}[/yellow] {escape(detail)}")
                if attempt < settings.retries:
                    time.sleep(settings.backoff_seconds * 2 ** (attempt - 1))
                continue
            ledger.record_delivery(key, recipients, "sent", attempt)
            console.print(say(lang, "sent", to=escape(recipients)))
            return 0
        console.print(f"[red]{say(lang, 'error')}:[/red] {say(lang, 'not_sent')}")
        return 1
    finally:
        ledger.close()


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
