"""notify/reminders: evaluates models/notifications/rules.yaml over the quality tables for the as-of date (config;
default: the run's day) and dispatches the messages (pipelines.notify). Not partitioned: the cadence and the daily
caps live in notify.audit_log. Without an SMTP host (IKMS_SMTP_HOST) the e-mails are a dry run and only the
e-address outbox is written, so a default run never reaches for a mail server."""

import datetime as dt
from typing import Optional

import dagster as dg

from pipelines import settings
from pipelines.defs.ingest.resources import DuckDBWarehouse

KEY = dg.AssetKey(["notify", "reminders"])
QUALITY_TABLES = ("dq_submissions", "dq_validity", "cmp_discrepancies")
_QUALITY_MODELS = settings.PROJECT_ROOT / "dbt_project" / "models" / "quality"
# the dbt models of the quality tables (quality/<model>); a model not (yet) in the dbt project is not a dependency,
# so that the graph never holds a stray unmaterializable key (a missing table is skipped at run time)
QUALITY_DEPS = [dg.AssetKey(["quality", t]) for t in QUALITY_TABLES if any(_QUALITY_MODELS.rglob(f"{t}.sql"))]


class NotifyConfig(dg.Config):
    as_of: Optional[str] = None  # YYYY-MM-DD; default: the day of the run
    dry_run: bool = False
    channel: str = "all"  # smtp | eaddress | all
    lang: str = "lv"


@dg.asset(key=KEY, group_name="notify", deps=QUALITY_DEPS, kinds={"duckdb", "email"},
          description="Reminders and notifications (rules in models/notifications/rules.yaml) to institutions and "
                      "municipality coordinators via SMTP and the e-address outbox; every message in "
                      "notify.audit_log.",
          metadata={"rules": "models/notifications/rules.yaml", "table": "notify.audit_log"})
def reminders(context: dg.AssetExecutionContext, config: NotifyConfig, warehouse: DuckDBWarehouse):
    from pipelines.notify.engine import run

    as_of = dt.date.fromisoformat(config.as_of) if config.as_of else dt.date.today()
    s = run(as_of=as_of, dry_run=config.dry_run, channels=config.channel, language=config.lang,
            warehouse=warehouse.warehouse_path, outbox=settings.data_dir() / "outbox" / "eaddress")
    d = s.as_dict()
    for skipped in d["rules_skipped"]:
        context.log.warning(f"rule skipped: {skipped}")
    context.log.info(f"notifications as of {d['as_of']}: {d['results']} (channels {d['channels']})")
    return dg.MaterializeResult(metadata={
        "as_of": d["as_of"], "run_id": d["run_id"], "channels": dg.MetadataValue.json(d["channels"]),
        "results": dg.MetadataValue.json(d["results"]), "by_rule": dg.MetadataValue.json(d["by_rule"]),
        "suppressed_by_cadence": d["suppressed_by_cadence"], "without_address": d["no_address"],
        "rules_skipped": dg.MetadataValue.md("\n".join(f"- {x}" for x in d["rules_skipped"]) or "none"),
    })


notify_job = dg.define_asset_job("notify_reminders", selection=dg.AssetSelection.assets(KEY),
                                 description="Evaluate the reminder rules and send the messages.")

reminders_schedule = dg.ScheduleDefinition(
    name="notify_reminders_daily", job=notify_job, cron_schedule="0 7 * * *", execution_timezone="Europe/Riga",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every morning at 07:00 (Riga): the reminders as of that day. Stopped by default.")
