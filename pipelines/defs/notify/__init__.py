"""Notify stage: the asset notify/reminders (rules evaluated for an as-of date, messages sent, notify.audit_log)
and its daily schedule (stopped by default)."""
from __future__ import annotations

import dagster as dg

from pipelines.defs.notify.assets import notify_job, reminders, reminders_schedule

defs = dg.Definitions(assets=[reminders], jobs=[notify_job], schedules=[reminders_schedule])
