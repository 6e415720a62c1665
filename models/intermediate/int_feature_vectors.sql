{#-
    One row per (feature set, detection kept): the transformed features in the configured
    order, the matrix row a mixture is fitted on and scores. Computed row-wise from the
    raw values and the set's fitted parameters (int_feature_transform_params), with the
    macros those parameters were fitted by. Feature sets with a feature that cannot be
    transformed have no vectors.
-#}
{%- set feature_sets = var('feature_sets') %}

with

kept as (

    select * from {{ ref('int_feature_inputs_kept') }}

),

transform_params as (

    select * from {{ ref('int_feature_transform_params') }}

),

set_params as (

    select
        feature_set,
        list(log_offset order by feature_index) as log_offsets,
        list(scale_min order by feature_index) as scale_mins,
        list(scale_max order by feature_index) as scale_maxs,
        bool_and(is_transformable) as is_transformable
    from transform_params
    group by feature_set

),

final as (

    {%- for set_name, features in feature_sets.items() %}

        select
            kept.feature_set,
            kept.detection_id,
            [
                {%- for feature in features %}
                    {%- set index = '[' ~ loop.index ~ ']' %}
                    {{ scaled_feature_value(
                        "'" ~ feature.transform ~ "'",
                        'kept.raw_values' ~ index,
                        'set_params.log_offsets' ~ index,
                        'set_params.scale_mins' ~ index,
                        'set_params.scale_maxs' ~ index
                    ) }}{{ "," if not loop.last }}
                {%- endfor %}
            ] as features
        from kept
        inner join set_params on kept.feature_set = set_params.feature_set
        where kept.feature_set = '{{ set_name }}' and set_params.is_transformable
        {%- if not loop.last %}

            union all
        {%- endif %}
    {%- endfor %}

)

select * from final
