-- A log_minmax feature is ln(x + m/10) of a count rate, area or energy: a negative raw
-- value of a kept detection would have no logarithm. One row per such value.
{%- set feature_sets = var('feature_sets') %}

with

kept as (

    select * from {{ ref('int_feature_inputs_kept') }}

),

negative_values as (

    select
        null::varchar as feature_set,
        null::varchar as detection_id,
        null::varchar as feature,
        null::double as raw_value
    where false
    {%- for set_name, features in feature_sets.items() %}
        {%- for feature in features if feature.transform == 'log_minmax' %}
            {%- set value = 'raw_values[' ~ (features.index(feature) + 1) ~ ']' %}

            union all

            select
                feature_set,
                detection_id,
                '{{ feature.name }}' as feature,
                {{ value }} as raw_value
            from kept
            where feature_set = '{{ set_name }}' and {{ value }} < 0
        {%- endfor %}
    {%- endfor %}

)

select * from negative_values
