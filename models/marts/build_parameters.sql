{#-
    The parameters this warehouse was built with: every var of dbt_project.yml (as
    overridden by --vars), one row each, its value as JSON. What a result was computed
    with stays beside it, and tools read their defaults (the default run) from here.
-#}
{%- set names = [
    'unmatched_main_type', 'unmatched_object_type', 'unresolved_object_type',
    'simbad_match_radius_arcsec', 'default_gmm_run', 'hardness_classes',
    'variability_classes', 'sky_regions', 'feature_sets', 'gmm_runs', 'gmm_comparison',
    'gmm_scan', 'classification', 'cluster_descriptions',
] %}

with

parameters as (

    {%- for name in names %}

        select
            '{{ name }}' as parameter,
            '{{ tojson(var(name)) | replace("'", "''") }}'::json as value
        {%- if not loop.last %}

            union all
        {%- endif %}
    {%- endfor %}

),

final as (

    select
        parameter,
        value
    from parameters

)

select * from final
