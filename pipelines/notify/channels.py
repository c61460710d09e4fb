"""Delivery channels behind one interface: `send(message) -> Delivery`, used inside `with channel:` (a batch).

- SmtpChannel: smtplib to the server of IKMS_SMTP_HOST / IKMS_SMTP_PORT (default 25), sender IKMS_SMTP_SENDER,
  STARTTLS when IKMS_SMTP_STARTTLS=1, login when IKMS_SMTP_USER / IKMS_SMTP_PASSWORD are set.
- EAddressOutbox: the official e-address (e-adrese) gateway cannot be reached from here; one JSON file per message
  is written atomically into $IKMS_DATA_DIR/outbox/eaddress/ for a gateway to pick up (format: OUTBOX_FORMAT below
  and models/notifications/README.md).
- DryRun: wraps a channel, sends nothing, reports `dry_run`.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from pipelines import settings
from pipelines.notify.messages import Message

OUTBOX_FORMAT = "ikms-eaddress-outbox/1"


@dataclass(frozen=True)
class Delivery:
    result: str  # sent | queued | dry_run | failed
    sent_at: dt.datetime | None = None
    detail: str | None = None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Channel:
    name = "channel"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send(self, message: Message) -> Delivery:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class SmtpConfig:
    host: str | None
    port: int = 25
    sender: str = "ikms@ikms.example"
    starttls: bool = False
    user: str | None = None
    password: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env=None) -> "SmtpConfig":
        e = os.environ if env is None else env
        starttls = e.get("IKMS_SMTP_STARTTLS", "0").strip().lower() in ("1", "true", "yes")
        return cls(host=e.get("IKMS_SMTP_HOST") or None,
                   port=int(e.get("IKMS_SMTP_PORT") or (587 if starttls else 25)),
                   sender=e.get("IKMS_SMTP_SENDER") or "ikms@ikms.example", starttls=starttls,
                   user=e.get("IKMS_SMTP_USER") or None, password=e.get("IKMS_SMTP_PASSWORD") or None,
                   timeout=float(e.get("IKMS_SMTP_TIMEOUT") or 30))


def email_message(message: Message, sender: str) -> EmailMessage:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = message.recipient
    m["Subject"] = message.subject
    m["Date"] = format_datetime(dt.datetime.now(dt.timezone.utc))
    m["Message-ID"] = make_msgid(idstring=message.message_id or None, domain=sender.rpartition("@")[2] or None)
    m["Content-Language"] = message.language
    m["X-IKMS-Rule"] = message.rule_id
    m["X-IKMS-Period"] = message.period
    m["X-IKMS-Message-Id"] = message.message_id
    m["X-IKMS-Content-SHA256"] = message.content_sha256
    m.set_content(message.body, charset="utf-8")
    return m


class SmtpChannel(Channel):
    """One SMTP connection per batch (`with`); a refused recipient or a broken connection fails that message only
    (it is retried by the next run: a failed message does not count as sent)."""
    name = "smtp"

    def __init__(self, config: SmtpConfig):
        if not config.host:
            raise ValueError("SmtpChannel needs a host (IKMS_SMTP_HOST)")
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
        smtp.ehlo()
        if c.starttls:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if c.user:
            smtp.login(c.user, c.password or "")
        return smtp

    def __exit__(self, *exc):
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except smtplib.SMTPException:
                pass
            except OSError:
                pass
            self._smtp = None
        return False

    def send(self, message: Message) -> Delivery:
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            refused = self._smtp.send_message(email_message(message, self.config.sender))
        except (smtplib.SMTPException, OSError) as e:
            self._smtp = None if not isinstance(e, smtplib.SMTPRecipientsRefused) else self._smtp
            return Delivery("failed", None, f"{type(e).__name__}: {e}"[:500])
        if refused:
            return Delivery("failed", None, f"refused: {refused}"[:500])
        return Delivery("sent", _now())


class EAddressOutbox(Channel):
    """Writes <outbox>/<message_id>.json (UTF-8): written to a hidden temporary file in the same folder, fsynced,
    then renamed (atomic): a gateway only ever sees complete `*.json` files."""
    name = "eaddress"

    def __init__(self, outbox: Path | None = None, sender: str | None = None):
        self.outbox = Path(outbox) if outbox else settings.data_dir() / "outbox" / "eaddress"
        self.sender = sender or os.environ.get("IKMS_EADDRESS_SENDER") or "_DEFAULT@0000000000"

    def envelope(self, message: Message, created_at: dt.datetime) -> dict:
        return {
            "format": OUTBOX_FORMAT,
            "message_id": message.message_id,
            "created_at": created_at.isoformat(timespec="seconds") + "Z",
            "sender": self.sender,
            "recipient": message.recipient,
            "recipient_kind": message.recipient_kind,
            "reg_nr": message.reg_nr,
            "municipality_code": message.municipality_code,
            "group_key": message.group_key,
            "rule": message.rule_id,
            "severity": message.severity,
            "period": message.period,
            "language": message.language,
            "subject": message.subject,
            "body_format": "text/plain; charset=utf-8",
            "body": message.body,
            "content_sha256": message.content_sha256,
        }

    def send(self, message: Message) -> Delivery:
        now = _now()
        try:
            self.outbox.mkdir(parents=True, exist_ok=True)
            final = self.outbox / f"{message.message_id}.json"
            tmp = self.outbox / f".{message.message_id}.{uuid.uuid4().hex[:8]}.tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(self.envelope(message, now), f, ensure_ascii=False, indent=2)
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, final)
        except OSError as e:
            return Delivery("failed", None, f"{type(e).__name__}: {e}"[:500])
        return Delivery("queued", now, str(final))


class DryRun(Channel):
    def __init__(self, name: str):
        self.name = name

    def send(self, message: Message) -> Delivery:
        return Delivery("dry_run", None, None)
