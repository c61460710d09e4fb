{#- Models land in the schema named in their config (staging, intermediate, marts, indicators), not
    "<target schema>_<custom schema>": the warehouse is one DuckDB file whose schemas are the layers. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
