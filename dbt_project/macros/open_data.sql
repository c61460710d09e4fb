-- Macros of the open-data cells models (models/open_data/cells/): the row key, the school-year label and the
-- marginal cube over the geography (institution, municipality, nation) and the breakdown dimensions.

{% macro od_row_key(columns) -%}
    {#- The key of a row as one string: the key columns in definition order, NULL as ''. Disclosure control
        (sdc_cell_status) and the final od_* models join on it. -#}
    concat_ws('|'{% for c in columns %}, coalesce(cast({{ c }} as varchar), ''){% endfor %})
{%- endmacro %}

{% macro od_school_year(col) -%}
    {#- school-year key 2023 -> '2023/2024' (the period label of every open dataset) -#}
    cast({{ col }} as varchar) || '/' || cast({{ col }} + 1 as varchar)
{%- endmacro %}

{% macro od_sex(col) -%}
    {#- the marts' F/M -> the VIIS codes the ministry publishes: S (sieviete) / V (vīrietis); N (nav zināms) when
        the registry holds no record of the person (e.g. a quarantined learner record): a member of its own, so
        Kopā = V + S + N stays additive -#}
    case {{ col }} when 'F' then 'S' when 'M' then 'V' else 'N' end
{%- endmacro %}

{% macro od_age_on(birth_date, on_date) -%}
    {#- age in full years on a date (birthday on the date counts) -#}
    (year({{ on_date }}) - year({{ birth_date }})
     - case when month({{ birth_date }}) > month({{ on_date }})
                 or (month({{ birth_date }}) = month({{ on_date }}) and day({{ birth_date }}) > day({{ on_date }}))
            then 1 else 0 end)
{%- endmacro %}

{% macro od_cube(relation, dims, aggregates) -%}
    {#- Every level of the geography crossed with the full marginal cube of the breakdown dimensions.
        relation: a CTE with school_year, municipality_code, institution_id and one column per dimension (already
        named as the dataset's column, never NULL). aggregates: the measure expressions ("count(*) as n, ...").
        Output: school_year, limenis ('iestāde' | 'pašvaldība' | 'valsts'), municipality_code (NULL at valsts),
        institution_id (NULL above iestāde), the dimensions (the total member 'Kopā' where summed over), the
        aggregates. Every group holds at least one base row, so no all-zero rows appear. -#}
    select
        school_year,
        case
            when grouping(municipality_code) = 1 then 'valsts'
            when grouping(institution_id) = 1 then 'pašvaldība'
            else 'iestāde'
        end as limenis,
        municipality_code,
        institution_id,
        {%- for d in dims %}
        case when grouping({{ d }}) = 1 then 'Kopā' else cast({{ d }} as varchar) end as {{ d }},
        {%- endfor %}
        {{ aggregates }}
    from {{ relation }}
    group by
        school_year,
        grouping sets ((municipality_code, institution_id), (municipality_code), ())
        {%- if dims %}, cube({{ dims | join(', ') }}){% endif %}
{%- endmacro %}

{% macro od_geography() -%}
    {#- The geography columns of a cube row (alias c) with the names: joins on alias m (dim_municipalities)
        and i (dim_institutions of the same school year); see od_geography_joins. -#}
    {{ od_school_year('c.school_year') }} as macibu_gads,
    c.limenis,
    c.municipality_code as pasvaldibas_kods,
    m.municipality_name as pasvaldiba,
    c.institution_id as iestades_kods,
    i.institution_name as iestade
{%- endmacro %}

{% macro od_geography_joins() -%}
    left join {{ ref('dim_municipalities') }} as m on m.municipality_code = c.municipality_code
    left join {{ ref('dim_institutions') }} as i
        on i.school_year = c.school_year and i.institution_id = c.institution_id
{%- endmacro %}

{% macro od_enrolments(kinds) -%}
    {#- The base rows of the learner datasets (2-7): enrolments on the reference date (fct_enrolments) of the
        given programme kinds, one row per school year x institution x learner x programme (a learner in two
        programmes counts in each, so institution total = sum over grades/courses/ages = sum over programmes),
        with the institution's municipality and the learner's age in full years on the reference date. Datasets
        over one population MUST read this same macro with the same kinds: their shared cells then agree. -#}
    select
        e.school_year,
        i.municipality_code,
        e.institution_id,
        e.learner_id,
        e.programme_code,
        min(e.grade) as grade,
        min(e.course) as course,
        min(e.sex) as sex,
        min(e.reference_date) as reference_date
    from {{ ref('fct_enrolments') }} as e
    left join {{ ref('dim_institutions') }} as i
        on i.school_year = e.school_year and i.institution_id = e.institution_id
    where e.programme_kind in ({% for k in kinds %}'{{ k }}'{{ ", " if not loop.last }}{% endfor %})
        -- general education is counted by grade 1-12 and vocational by course: a spell without one has no cell
        and (e.programme_kind not in ('PAMATIZGLITIBA', 'SPECIALA', 'VIDEJA') or e.grade between 1 and 12)
        and (e.programme_kind <> 'PROFESIONALA' or e.course is not null)
        {{ school_year_filter('e.school_year') }}
    group by all
{%- endmacro %}

{# Datasets 5, 6, 7: learners per programme at every level, from the same base rows as the learner datasets of
   the same programme kinds (od_enrolments), so institution total = sum over programmes = the total there. #}
{% macro od_programme_cells(kinds) %}
with base as (
    select school_year, municipality_code, institution_id,
        programme_code as programmas_kods
    from ({{ od_enrolments(kinds) }})
),
c as (
    {{ od_cube('base', ['programmas_kods'], 'count(*) as izglitojamo_skaits') }}
),
cells as (
    select
        {{ od_geography() }},
        c.programmas_kods,
        p.programme_name as programma,
        cast(c.izglitojamo_skaits as bigint) as izglitojamo_skaits
    from c
    {{ od_geography_joins() }}
    left join {{ ref('dim_programmes') }} as p on p.programme_code = c.programmas_kods
)
select * from cells
{% endmacro %}
