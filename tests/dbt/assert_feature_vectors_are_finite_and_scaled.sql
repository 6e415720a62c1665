-- Every transformed feature is a finite number, and lies in [0, 1] after a log_minmax
-- or minmax transform: one row per value that is not.
{%- set feature_sets = var('feature_sets') %}

with

feature_vectors as (

    select * from {{ ref('int_feature_vectors') }}

),

values_out_of_range as (

    {%- for set_name, features in feature_sets.items() %}
        {%- set outer_loop = loop %}
        {%- for feature in features %}
            {%- set value = 'features[' ~ loop.index ~ ']' %}

            select
                feature_set,
                detection_id,
                '{{ feature.name }}' as feature,
                {{ value }} as value
            from feature_vectors
            where
                feature_set = '{{ set_name }}'
                and (
                    {{ value }} is null
                    or not isfinite({{ value }})
                    {%- if feature.transform != 'none' %}
                        or {{ value }} not between 0 and 1
                    {%- endif %}
                )
            {%- if not (loop.last and outer_loop.last) %}

                union all
            {%- endif %}
        {%- endfor %}
    {%- endfor %}

)

select * from values_out_of_range
