"""E-mail delivery of the last good run: once per change of the inputs and recipient, retried with backoff.

Each recipient has its own record (ledger.py): a recipient the server refuses is reported as not delivered
and retried alone by the next send, never reported as sent. A message counts as sent when the server answers
the final dot with 250, recorded before the session is closed (a 421 to QUIT is not a failed delivery). When
the whole message went out and no answer came (a slow server past ten minutes, a connection dropped after the
data), the delivery is "unknown": the server may have stored it, so it is said on the console and not
repeated by itself — `--force` sends it again. Check-and-send holds a lock on the output folder, so two senders
(overlapping cron runs) send one message. Every attempt carries a Message-ID fixed for the inputs, so a
retry is recognisable as the same message by the recipients' mail systems.

Delivery only sends files that the run rendered (brief, deck, optionally the target list, and the
message parts in email.json). The SMTP password comes from the environment variable SMTP_PASSWORD,
never from config.toml, and is never printed or written anywhere.
"""

from __future__ import annotations

import contextlib
import json
import os
import smtplib
import time
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from campaign_report.analysis.config import EmailConfig, load_config
from campaign_report.analysis.errors import ConfigError, UserError
from campaign_report.pipeline.ledger import Ledger, inputs_key
from campaign_report.pipeline.mail import address_of, build_message, close_session, message_id, open_session, send_to
from campaign_report.pipeline.messages import say
from campaign_report.pipeline.publish import current_run

PASSWORD_ENV = "SMTP_PASSWORD"
LOCK = ".delivery.lock"


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
    err = Console(stderr=True, emoji=False, soft_wrap=True)
    states = {r: ledger.last_status(key, r) for r in settings.to}
    unknown = [r for r, st in states.items() if st is not None and st[0] in ("unknown", "data_sent")]
    pending = list(settings.to) if force else \
        [r for r in settings.to if not ledger.was_sent(key, r) and r not in unknown]
    if unknown and not force:
        # The message went out and no reply came: the server may have it. Sending again could make a copy;
        # a person decides (--force).
        err.print(f"[yellow]{say(lang, 'unknown', to=escape(', '.join(unknown)))}[/yellow]", highlight=False)
    if not pending:
        if not unknown:
            console.print(say(lang, "already_sent"))
        return 0
    interrupted = next((st[1] for r, st in states.items() if r in pending and st is not None and st[0] == "sending"),
                       None)
    msgid = interrupted if interrupted and not force else \
        message_id(key, max(ledger.sent_count(key, r) for r in pending))
    if interrupted and not force:
        err.print(f"[yellow]{say(lang, 'interrupted', msgid=escape(msgid))}[/yellow]", highlight=False)
    run = current_run(out)  # resolved once: the message and its attachments come from one run
    parts = json.loads((run / "email.json").read_text(encoding="utf-8"))
    msg = build_message(parts, run, settings, msgid)
    sender = address_of(str(msg["From"]))
    sent: list[str] = []
    refused: dict[str, str] = {}
    lost: dict[str, str] = {}
    for attempt in range(1, settings.retries + 1):
        for r in pending:
            ledger.record_delivery(key, r, "sending", attempt, message_id=msgid)

        def data_sent(accepted: list[str], attempt: int = attempt) -> None:
            for r in accepted:
                ledger.record_delivery(key, r, "data_sent", attempt, message_id=msgid)

        try:
            server = open_session(settings, password)
            try:
                outcome = send_to(server, msg, sender, pending, data_sent)
                # Recorded before QUIT: a failure to say goodbye changes nothing about what was delivered.
                for r in outcome.sent:
                    ledger.record_delivery(key, r, "sent", attempt, message_id=msgid)
            finally:
                close_session(server)
        except (smtplib.SMTPException, OSError) as exc:
            detail = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:300]
            detail = detail.replace(password, "***") if password else detail
            for r in pending:
                ledger.record_delivery(key, r, "failed", attempt, detail, message_id=msgid)
            err.print(f"[yellow]{say(lang, 'attempt_failed', attempt=attempt)}[/yellow] {escape(detail)}",
                      highlight=False)
        else:
            for status, found in (("refused", outcome.refused), ("unknown", outcome.unknown),
                                  ("failed", outcome.temporary)):
                for r, reply in found.items():
                    ledger.record_delivery(key, r, status, attempt, reply, message_id=msgid)
            sent += outcome.sent
            refused.update(outcome.refused)
            lost.update(outcome.unknown)
            pending = list(outcome.temporary)  # a 4xx is worth another try now; a refusal and "unknown" are not
            if outcome.temporary:
                err.print(f"[yellow]{say(lang, 'attempt_failed', attempt=attempt)}[/yellow] "
                          f"{escape('; '.join(f'{r}: {t}' for r, t in outcome.temporary.items()))}", highlight=False)
        if not pending:
            break
        if attempt < settings.retries:
            time.sleep(settings.backoff_seconds * 2 ** (attempt - 1))
    if sent:
        console.print(say(lang, "sent", to=escape(", ".join(sent))), highlight=False)
    for r, reply in refused.items():
        err.print(f"[red]{say(lang, 'error')}:[/red] {escape(say(lang, 'refused', to=r, reply=reply))}",
                  highlight=False)
    if lost:
        err.print(f"[red]{say(lang, 'error')}:[/red] {escape(say(lang, 'unknown', to=', '.join(lost)))}",
                  highlight=False)
    if pending:
        err.print(f"[red]{say(lang, 'error')}:[/red] {say(lang, 'not_sent', to=escape(', '.join(pending)))}",
                  highlight=False)
    return 0 if not (pending or refused or lost) else 1


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
            Console(stderr=True, emoji=False, soft_wrap=True).print(
                f"[red]{say(config.report.language, 'error')}:[/red] {escape(str(exc))}", highlight=False)
            code = exc.exit_code
        if once:
            return code
        time.sleep(interval)
