"""Reminders and notifications (issue 4 item 4): declarative rules (models/notifications/rules.yaml) evaluated as
SQL over the quality tables for an as-of date, messages in Latvian (English as a second language) to the
institution and its municipality's coordinator, sent through SMTP or the e-address outbox under a cadence, daily
caps and dry-run, every message in notify.audit_log. Entry points: `run`, `notify_group` (pipelines.notify.engine)."""
from pipelines.notify.engine import notify_group, run  # noqa: F401
