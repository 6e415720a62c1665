{#-
    Every configured feature of every feature set, for every detection, before
    any transform: one row per (feature_set, detection, feature). Features are
    descriptors of stg_csc__detections or SQL expressions over them (var
    feature_sets in dbt_project.yml).
-#}
{%- set feature_sets = var('feature_sets') %}

with

detections as (

    select * from {{ ref('stg_csc__detections') }}

),

feature_inputs as (

    {%- for set_name, features in feature_sets.items() %}
        {%- set outer_loop = loop %}
        {%- for feature in features %}

            select
                '{{ set_name }}' as feature_set,
                {{ loop.index0 }} as feature_index,
                '{{ feature.name }}' as feature,
                '{{ feature.transform }}' as transform,
                detection_id,
                ({{ feature.expression | default(feature.name) }})::double as raw_value
            from detections
            {%- if not (loop.last and outer_loop.last) %}

                union all
            {%- endif %}
        {%- endfor %}
    {%- endfor %}

),

final as (

    select
        feature_set,
        feature_index,
        feature,
        transform,
        detection_id,
        raw_value,
        -- a null, or an expression such as a ratio over a zero rate, leaves the
        -- detection out of the feature set
        raw_value is not null and isfinite(raw_value) as is_usable
    from feature_inputs

)

select * from final
