{#- The reference date of school year `year_col` (var reference_day, default '09-01'): e.g. 2024 -> 2024-09-01. -#}
{% macro reference_date(year_col) -%}
cast(cast({{ year_col }} as varchar) || '-{{ var("reference_day", "09-01") }}' as date)
{%- endmacro %}
