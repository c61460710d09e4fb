{#- The roll-up of one catalogue indicator from its finest-grain model to every published level.
    One GROUPING SETS query: for each level, every subset of the indicator's dimensions is a grouping set,
    so each dimension also gets its total ('_T'); the dimensions it does not use are '_Z'.
    ratio/count: numerators and denominators are summed (a municipality value is Σnum/Σden, not the mean of
    its institutions' values). median/distinct: recomputed from the finest rows at each level (median over
    the observations; distinct persons counted once per unit even if they appear under several institutions).
    Institution -> municipality via dim_institutions.municipality_code of the same school year.
    Numerators/denominators are summed as DECIMAL: a sum of doubles depends on the order rows arrive in, and a
    rebuilt year must give byte-identical values. -#}
{% macro indicator_rollup(indicator_id, finest, grain, levels, dimensions, all_dimensions, aggregation, scale) -%}
{#- GROUPING() may only name columns of some grouping set: test only the unit columns the levels use -#}
{%- set has_institution = grain == 'institution' and 'institution' in levels -%}
{%- set has_municipality = 'institution' in levels or 'municipality' in levels -%}
{%- set unit_sets = [] -%}
{%- if 'institution' in levels -%}{%- do unit_sets.append(['_institution_id', '_municipality_code']) -%}{%- endif -%}
{%- if 'municipality' in levels -%}{%- do unit_sets.append(['_municipality_code']) -%}{%- endif -%}
{%- if 'national' in levels -%}{%- do unit_sets.append([]) -%}{%- endif -%}
{#- every subset of the dimensions (the empty one first): each becomes a grouping set per level -#}
{%- set subsets = [[]] -%}
{%- for d in dimensions -%}
{%- set grown = [] -%}
{%- for s in subsets -%}{%- do grown.append(s + [d]) -%}{%- endfor -%}
{%- for s in grown -%}{%- do subsets.append(s) -%}{%- endfor -%}
{%- endfor -%}
with finest as (
    select
        f.school_year,
        {%- if grain == 'institution' %}
        cast(f.institution_id as varchar) as _institution_id,
        coalesce(cast(i.municipality_code as varchar), '_U') as _municipality_code,
        {%- else %}
        coalesce(cast(f.municipality_code as varchar), '_U') as _municipality_code,
        {%- endif %}
        {%- for d in dimensions %}
        coalesce(cast(f.{{ d }} as varchar), '_U') as {{ d }},
        {%- endfor %}
        {%- if aggregation in ('ratio', 'count') %}
        cast(f.numerator as decimal(38, 6)) as numerator,
        {%- endif %}
        {%- if aggregation == 'ratio' %}
        cast(f.denominator as decimal(38, 6)) as denominator
        {%- elif aggregation == 'count' %}
        cast(null as decimal(38, 6)) as denominator
        {%- elif aggregation == 'median' %}
        cast(f.value as double) as value
        {%- else %}
        cast(f.person_id as varchar) as person_id,
        coalesce(cast(f.is_numerator as boolean), false) as is_numerator
        {%- endif %}
    from {{ finest }} as f
    {%- if grain == 'institution' %}
    left join {{ ref('dim_institutions') }} as i
        on i.school_year = f.school_year and i.institution_id = f.institution_id
    {%- endif %}
    where 1 = 1 {{ school_year_filter('f.school_year') }}
)
select
    cast('{{ indicator_id }}' as varchar) as indicator_id,
    {%- if not has_municipality %}
    cast('national' as varchar) as level,
    cast('LV' as varchar) as unit_code,
    {%- else %}
    cast(case
        {%- if has_institution %}
        when grouping(_institution_id) = 0 then 'institution'
        {%- endif %}
        {%- if has_municipality %}
        when grouping(_municipality_code) = 0 then 'municipality'
        {%- endif %}
        else 'national' end as varchar) as level,
    cast(case
        {%- if has_institution %}
        when grouping(_institution_id) = 0 then _institution_id
        {%- endif %}
        {%- if has_municipality %}
        when grouping(_municipality_code) = 0 then _municipality_code
        {%- endif %}
        else 'LV' end as varchar) as unit_code,
    {%- endif %}
    cast(school_year as integer) as school_year,
    {%- for d in all_dimensions %}
    {%- if d in dimensions %}
    cast(case when grouping({{ d }}) = 1 then '_T' else {{ d }} end as varchar) as {{ d }},
    {%- else %}
    cast('_Z' as varchar) as {{ d }},
    {%- endif %}
    {%- endfor %}
    {%- if aggregation == 'ratio' %}
    cast(sum(numerator) as double) as numerator,
    cast(sum(denominator) as double) as denominator,
    cast({{ scale }} * cast(sum(numerator) as double) / nullif(cast(sum(denominator) as double), 0) as double) as value,
    cast(null as bigint) as n_observations
    {%- elif aggregation == 'count' %}
    cast(sum(numerator) as double) as numerator,
    cast(null as double) as denominator,
    cast(sum(numerator) as double) as value,
    cast(null as bigint) as n_observations
    {%- elif aggregation == 'median' %}
    cast(null as double) as numerator,
    cast(null as double) as denominator,
    cast(median(value) as double) as value,
    cast(count(value) as bigint) as n_observations
    {%- else %}
    cast(count(distinct case when is_numerator then person_id end) as double) as numerator,
    cast(count(distinct person_id) as double) as denominator,
    cast({{ scale }} * count(distinct case when is_numerator then person_id end)
         / nullif(count(distinct person_id), 0) as double) as value,
    cast(count(distinct person_id) as bigint) as n_observations
    {%- endif %}
from finest
group by grouping sets (
    {%- for units in unit_sets %}
    {%- set outer_last = loop.last %}
    {%- for subset in subsets %}
    ({{ (['school_year'] + units + subset) | join(', ') }}){% if not (outer_last and loop.last) %},{% endif %}
    {%- endfor %}
    {%- endfor %}
)
{%- endmacro %}


{#- indicator_values: the union of every indicator's roll-up, filtered to the school years being rebuilt. -#}
{% macro indicator_union(relations, columns) -%}
{%- for rel in relations %}
select {{ columns | join(', ') }} from {{ rel }}
where 1 = 1 {{ school_year_filter('school_year') }}
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}
{%- endmacro %}
