"""The declarative notification rules (models/notifications/rules.yaml): loading and validation. Errors name the
rule and the field."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipelines import settings

RULES_PATH = settings.PROJECT_ROOT / "models" / "notifications" / "rules.yaml"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

RECIPIENT_KINDS = ("institution", "coordinator")
SEVERITIES = {"error": 0, "warning": 1, "info": 2}  # priority rank: lower is sent first
CHANNELS = ("smtp", "eaddress")
DEFAULT_CAPS = {"smtp": 300, "eaddress": 1000}


class RuleError(ValueError):
    pass


@dataclass(frozen=True)
class Rule:
    id: str
    source: str
    recipients: tuple[str, ...]
    cadence_days: int | None  # None: send once, never repeat
    severity: str
    template: str
    params: dict = field(default_factory=dict)
    enabled: bool = True


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    daily_cap: dict
    max_items_per_message: int = 100

    def get(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


def _fail(where: str, msg: str):
    raise RuleError(f"{where}: {msg}")


def parse(doc: dict, where: str = "rules.yaml") -> RuleSet:
    from pipelines.notify.sources import SOURCES

    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
        _fail(where, "expected a mapping with a list `rules`")
    limits = doc.get("limits") or {}
    caps = dict(DEFAULT_CAPS)
    for ch, n in (limits.get("daily_cap") or {}).items():
        if ch not in CHANNELS:
            _fail(f"{where} limits.daily_cap", f"unknown channel {ch!r} (one of {', '.join(CHANNELS)})")
        if not isinstance(n, int) or n < 0:
            _fail(f"{where} limits.daily_cap.{ch}", f"must be a non-negative integer, got {n!r}")
        caps[ch] = n
    rules, seen = [], set()
    for i, r in enumerate(doc["rules"]):
        w = f"{where} rules[{i}]" + (f" ({r.get('id')})" if isinstance(r, dict) and r.get("id") else "")
        if not isinstance(r, dict):
            _fail(w, "a rule is a mapping")
        unknown = set(r) - {"id", "source", "params", "recipients", "cadence_days", "severity", "template", "enabled",
                            "description"}
        if unknown:
            _fail(w, f"unknown field(s) {sorted(unknown)}")
        for k in ("id", "source", "recipients", "severity"):
            if k not in r:
                _fail(w, f"missing field `{k}`")
        if r["id"] in seen:
            _fail(w, f"duplicate id {r['id']!r}")
        seen.add(r["id"])
        if r["source"] not in SOURCES:
            _fail(f"{w}.source", f"unknown source {r['source']!r} (one of {', '.join(sorted(SOURCES))})")
        recips = r["recipients"] if isinstance(r["recipients"], list) else [r["recipients"]]
        if not recips or any(x not in RECIPIENT_KINDS for x in recips):
            _fail(f"{w}.recipients", f"{recips!r}: each one of {', '.join(RECIPIENT_KINDS)}")
        if r["severity"] not in SEVERITIES:
            _fail(f"{w}.severity", f"{r['severity']!r} (one of {', '.join(SEVERITIES)})")
        cadence = r.get("cadence_days")
        if cadence is not None and (not isinstance(cadence, int) or cadence < 1):
            _fail(f"{w}.cadence_days", f"a whole number of days >= 1, or null (send once), got {cadence!r}")
        params = dict(SOURCES[r["source"]].defaults)
        extra = set(r.get("params") or {}) - set(params)
        if extra:
            _fail(f"{w}.params", f"unknown parameter(s) {sorted(extra)} for source {r['source']} "
                                 f"(known: {', '.join(sorted(params)) or 'none'})")
        params.update(r.get("params") or {})
        template = r.get("template", r["id"])
        for lang in ("lv", "en"):
            if not (TEMPLATES_DIR / lang / f"{template}.txt.j2").exists():
                _fail(f"{w}.template", f"no template {lang}/{template}.txt.j2 in {TEMPLATES_DIR}")
        rules.append(Rule(id=r["id"], source=r["source"], recipients=tuple(recips), cadence_days=cadence,
                          severity=r["severity"], template=template, params=params,
                          enabled=bool(r.get("enabled", True))))
    return RuleSet(rules=tuple(rules), daily_cap=caps,
                   max_items_per_message=int(limits.get("max_items_per_message", 100)))


def load(path: Path | str | None = None) -> RuleSet:
    p = Path(path) if path else RULES_PATH
    return parse(yaml.safe_load(p.read_text(encoding="utf-8")), where=str(p.name))
