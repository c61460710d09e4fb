-- The 119 pre-2021 units and the current unit that took over (most of) each.
select
    cast(atvk_code as varchar) as old_atvk_code,
    cast(name as varchar) as old_name,
    cast(successor_atvk_code as varchar) as municipality_code
from {{ ref('territorial_units_pre2021') }}
