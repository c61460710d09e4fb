"""Messages: rendering the templates (pipelines/notify/templates/<lang>/<template>.txt.j2, first line = subject,
then a blank line, then the body), the content hash, and the privacy guard.

content_sha256 = SHA-256 of UTF-8 `subject + "\\n\\n" + body` (body with `\\n` line ends): the same value is put into
the e-mail header X-IKMS-Content-SHA256, the outbox envelope and notify.audit_log, and a receiver can recompute it."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache

import jinja2

from pipelines.common.pseudonymise import DIGITS
from pipelines.notify.rules import TEMPLATES_DIR

LANGUAGES = ("lv", "en")
# a pseudonym (16 hex digits, pipelines.common.pseudonymise) must never leave the warehouse
_PSEUDONYM = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{%d}(?![0-9a-fA-F])" % DIGITS)


class PrivacyError(ValueError):
    pass


@dataclass
class Message:
    rule_id: str
    severity: str
    period: str
    recipient: str  # e-mail or e-address
    recipient_kind: str  # institution | coordinator | group
    channel: str  # smtp | eaddress
    language: str
    subject: str
    body: str
    reg_nr: str | None = None  # the institution (institution / group recipients)
    municipality_code: str | None = None
    group_key: str | None = None  # e.g. municipality:0001000, institution_type:<tips>
    n_items: int = 0
    first_deadline: dt.datetime | None = None
    message_id: str = ""
    headers: dict = field(default_factory=dict)

    @property
    def content_sha256(self) -> str:
        return content_sha256(self.subject, self.body)


def content_sha256(subject: str, body: str) -> str:
    return hashlib.sha256(f"{subject}\n\n{body}".encode("utf-8")).hexdigest()


def check_privacy(text: str) -> None:
    if _PSEUDONYM.search(text):
        raise PrivacyError(f"a message would contain a {DIGITS}-hex identifier (a pseudonym): not sent")


@lru_cache(maxsize=None)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)), undefined=jinja2.StrictUndefined,
                             autoescape=False, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["date"] = lambda v: "" if v is None else (v.date() if isinstance(v, dt.datetime) else v).isoformat()
    env.filters["num"] = lambda v: "" if v is None else f"{v:,}".replace(",", "\u00a0")
    env.filters["pct"] = lambda v: "" if v is None else f"{100 * v:.1f}"
    return env


def render(template: str, language: str, context: dict) -> tuple[str, str]:
    """(subject, body) of `template` in `language` (lv | en)."""
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r}: one of {', '.join(LANGUAGES)}")
    text = _env().get_template(f"{language}/{template}.txt.j2").render(**context)
    subject, _, body = text.partition("\n")
    body = body.lstrip("\n")
    body = re.sub(r"\n{3,}", "\n\n", body).rstrip() + "\n"
    subject = subject.strip()
    check_privacy(subject + "\n" + body)
    return subject, body
