-- The data calendar (seeds/data_calendar.csv), typed: one row per submission kind (feed x entity x period).
-- period is the feed's own label ('1_SEM', 'T1', 'VS-1', ...) or 'YYYY-MM' for monthly submissions.
select
    cast(submission_id as varchar) as submission_id,
    cast(feed as varchar) as feed,
    cast(entity as varchar) as entity,
    cast(period as varchar) as period,
    cast(period_kind as varchar) as period_kind,
    cast(deadline_year_offset as integer) as deadline_year_offset,
    cast(deadline_month as integer) as deadline_month,
    cast(deadline_day as integer) as deadline_day,
    cast(deadline_months_after as integer) as deadline_months_after,
    cast(deadline_time as time) as deadline_time,
    cast(assessed_on as varchar) as assessed_on,
    cast(required_of as varchar) as required_of,
    cast(empty_allowed as boolean) as empty_allowed,
    cast(description as varchar) as description
from {{ ref('data_calendar') }}
