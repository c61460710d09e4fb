-- A learner (pseudonym) with sex and birth year: from the latest school year's VIIS record.
select
    cast(learner_id as varchar) as learner_id,
    cast(sex as varchar) as sex,
    cast(birth_year as integer) as birth_year
from {{ ref('stg_viis__learners') }}
qualify row_number() over (partition by learner_id order by school_year desc, _source_file desc, _source_line desc) = 1
