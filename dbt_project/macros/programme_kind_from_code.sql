{#- Fallback programme kind (classifier PROGRAMMAS_VEIDS) from the 8-digit Latvian programme code when
    viis_programmes has no row for it: 0x pre-school, 2x basic (xxxx56xx special basic), 31 general secondary,
    32-35 vocational, 4x higher education. -#}
{% macro programme_kind_from_code(code) -%}
case
    when {{ code }} like '0%' then 'PIRMSSKOLA'
    when {{ code }} like '2%' and substr({{ code }}, 5, 2) = '56' then 'SPECIALA'
    when {{ code }} like '2%' then 'PAMATIZGLITIBA'
    when {{ code }} like '31%' then 'VIDEJA'
    when {{ code }} like '3%' then 'PROFESIONALA'
    when {{ code }} like '4%' then 'AUGSTAKA'
end
{%- endmacro %}
