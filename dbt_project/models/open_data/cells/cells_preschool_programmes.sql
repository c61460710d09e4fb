-- Dataset 5: learners in pre-school programmes on the reference date, by programme, at every level.
-- depends_on: {{ ref('dim_programmes') }}
select *,
    {{ od_row_key(['macibu_gads', 'limenis', 'pasvaldibas_kods', 'iestades_kods', 'programmas_kods']) }} as _row_key
from ({{ od_programme_cells(['PIRMSSKOLA']) }})
