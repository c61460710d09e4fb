-- One row per programme code: the name and kind most often licensed (then the latest year, then the
-- smallest name) across institutions and years; codes only met in enrolments get a kind from the code pattern.
with licensed as (
    select programme_code, programme_name, programme_kind, count(*) as n, max(school_year) as last_year
    from {{ ref('stg_viis__programmes') }}
    group by all
),
best as (
    select programme_code, programme_name, programme_kind
    from licensed
    qualify row_number() over (
        partition by programme_code order by n desc, last_year desc, programme_name, programme_kind) = 1
),
codes as (
    select programme_code from licensed
    union
    select programme_code from {{ ref('stg_viis__enrolments') }}
)
select
    cast(c.programme_code as varchar) as programme_code,
    cast(b.programme_name as varchar) as programme_name,
    cast(coalesce(b.programme_kind, {{ programme_kind_from_code('c.programme_code') }}) as varchar) as programme_kind,
    cast(k.education_level as varchar) as education_level
from codes as c
left join best as b using (programme_code)
left join {{ ref('programme_kinds') }} as k
    on k.programme_kind = coalesce(b.programme_kind, {{ programme_kind_from_code('c.programme_code') }})
