{#- SQL mirror of pipelines/common/territory.harmonise_atvk: an old (pre-2021) or current 7-digit ATVK code ->
    the current unit code; a current sub-unit code (parish/town, e.g. 0054630) -> its unit (first 4 digits + '000');
    null if unknown. Renders one expression (correlated lookups into the seeds, which DuckDB turns into joins).
    Pass a table-QUALIFIED column, e.g. {{ harmonise_atvk('i.atvk_code') }}: an unqualified `atvk_code` would
    resolve to the seed's own column inside the lookups. -#}
{% macro harmonise_atvk(code) -%}
coalesce(
    (select u.atvk_code from {{ ref('territorial_units') }} as u where u.atvk_code = {{ code }}),
    (select o.successor_atvk_code from {{ ref('territorial_units_pre2021') }} as o where o.atvk_code = {{ code }}),
    (select u.atvk_code from {{ ref('territorial_units') }} as u
      where starts_with({{ code }}, '00') and u.atvk_code = substr({{ code }}, 1, 4) || '000')
)
{%- endmacro %}
