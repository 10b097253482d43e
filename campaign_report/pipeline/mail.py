"""The message and one SMTP session, step by step, so that what the server did with each recipient is known.

`smtplib.sendmail` hides the three outcomes delivery must tell apart: a recipient refused at RCPT (never sent,
retry alone later), a message the server accepted (sent), and a message whose data went out completely but whose
reply never came (a timeout or a dropped connection after the final dot: the server may well have stored it, so
"unknown", never retried by itself). Timeouts follow RFC 5321 §4.5.3.2: minutes for each command and ten minutes
for the reply to the final dot, which a slow server may legitimately need.
"""

from __future__ import annotations

import copy
import hashlib
import io
import mimetypes
import re
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.utils import formatdate, getaddresses
from pathlib import Path

from campaign_report.analysis.settings import EmailConfig

CONNECT_TIMEOUT = 30.0  # seconds to open the connection
COMMAND_TIMEOUT = 300.0  # RFC 5321: 5 minutes for the greeting, MAIL and RCPT
DATA_END_TIMEOUT = 600.0  # RFC 5321: 10 minutes for the reply to the final dot


@dataclass
class SessionOutcome:
    """What one session did for each envelope recipient (keys: the configured recipient strings)."""

    sent: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # recipient -> the server's reply (e.g. "550 …")
    temporary: dict[str, str] = field(default_factory=dict)  # 4xx: worth another attempt now
    unknown: dict[str, str] = field(default_factory=dict)  # data sent, no reply: the server may have it


def message_id(key: str, copy: int) -> str:
    """Fixed for the inputs and the copy: every recipient of one sending gets the same message, a retry or a
    recipient retried alone later gets it again, and only a forced resend is a new message."""
    digest = hashlib.sha256(f"{key}|{copy}".encode()).hexdigest()[:32]
    return f"<{digest}@campaign-report>"


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
    if (out_dir / "report.html").exists():  # the brief as one page a phone opens (an email.json of an older run
        files.append((out_dir / "report.html", parts.get("report_name", "report.html")))  # has no name for it)
    if settings.attach_target_list and (out_dir / "target_list.csv").exists():
        files.append((out_dir / "target_list.csv", "target_list.csv"))
    for path, name in files:
        kind, _ = mimetypes.guess_type(path.name)
        maintype, subtype = (kind or "application/octet-stream").split("/")
        msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=name)
    return msg


def address_of(recipient: str) -> str:
    """The envelope address of a configured recipient ("Маркетинг <m@x.ru>" -> "m@x.ru")."""
    parsed = getaddresses([recipient])
    return parsed[0][1] if parsed and parsed[0][1] else recipient


def _flatten(msg: EmailMessage, utf8: bool) -> bytes:
    copied = copy.copy(msg)
    del copied["Bcc"]
    del copied["Resent-Bcc"]
    with io.BytesIO() as out:
        policy = msg.policy.clone(utf8=utf8) if utf8 else msg.policy  # type: ignore[call-arg]
        BytesGenerator(out, policy=policy).flatten(copied, linesep="\r\n")
        return out.getvalue()


def _data_block(flat: bytes) -> bytes:
    """The message as the DATA phase sends it: CRLF line ends, leading dots doubled, the final dot."""
    data = re.sub(rb"(?:\r\n|\n|\r(?!\n))", b"\r\n", flat)
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def _reply(code: int, text: bytes | str) -> str:
    detail = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(detail.split())}"[:200]


def _timeout(server: smtplib.SMTP, seconds: float) -> None:
    if server.sock is not None:
        server.sock.settimeout(seconds)


def open_session(settings: EmailConfig, password: str | None) -> smtplib.SMTP:
    """Connected, secured and logged in, with the command timeout on the socket."""
    context = ssl.create_default_context()
    if not settings.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if settings.security == "ssl":
        server: smtplib.SMTP = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, context=context,
                                                timeout=CONNECT_TIMEOUT)
    else:
        server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=CONNECT_TIMEOUT)
    try:
        _timeout(server, COMMAND_TIMEOUT)
        if settings.security == "starttls":
            server.starttls(context=context)
            _timeout(server, COMMAND_TIMEOUT)
        if settings.username:
            server.login(settings.username, password or "")
    except BaseException:
        server.close()
        raise
    return server


def send_to(server: smtplib.SMTP, msg: EmailMessage, sender: str, recipients: list[str],
            data_sent: Callable[[list[str]], None]) -> SessionOutcome:
    """MAIL, RCPT per recipient, DATA. `data_sent(accepted)` runs when the whole message went out, before the
    reply to the final dot is awaited. Errors before that point propagate (nothing was delivered)."""
    outcome = SessionOutcome()
    server.ehlo_or_helo_if_needed()
    addresses = {r: address_of(r) for r in recipients}
    utf8 = not all(a.isascii() for a in [sender, *addresses.values()])
    options = ["SMTPUTF8", "BODY=8BITMIME"] if utf8 and server.has_extn("smtputf8") else []
    code, text = server.mail(sender, options)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, text, sender)
    accepted = []
    for recipient, address in addresses.items():
        code, text = server.rcpt(address)
        if code in (250, 251):
            accepted.append(recipient)
        elif 400 <= code < 500:
            outcome.temporary[recipient] = _reply(code, text)
        else:
            outcome.refused[recipient] = _reply(code, text)
    if not accepted:
        server.rset()
        return outcome
    code, text = server.docmd("DATA")
    if code != 354:
        raise smtplib.SMTPDataError(code, text)
    server.send(_data_block(_flatten(msg, utf8=bool(options))))
    data_sent(accepted)
    _timeout(server, DATA_END_TIMEOUT)
    try:
        code, text = server.getreply()
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        reason = f"no reply to the end of the message ({type(exc).__name__})"
        outcome.unknown.update(dict.fromkeys(accepted, reason))
        return outcome
    if code == 250:
        outcome.sent += accepted
    elif 400 <= code < 500:
        outcome.temporary.update(dict.fromkeys(accepted, _reply(code, text)))
    else:
        outcome.refused.update(dict.fromkeys(accepted, _reply(code, text)))
    return outcome


def close_session(server: smtplib.SMTP) -> None:
    """QUIT; a failure to say goodbye changes nothing about what was delivered."""
    try:
        _timeout(server, CONNECT_TIMEOUT)
        server.quit()
    except (smtplib.SMTPException, OSError, AttributeError):
        server.close()
