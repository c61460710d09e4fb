-- The 43 current local governments (2021 reform).
select
    cast(atvk_code as varchar) as municipality_code,
    cast(name as varchar) as municipality_name,
    cast(case kind when 'valstspilseta' then 'state_city' else 'municipality' end as varchar) as municipality_kind,
    cast(lat as double) as centre_lat,
    cast(lon as double) as centre_lon
from {{ ref('territorial_units') }}
