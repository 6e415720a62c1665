{#-
    One row per (feature set, detection kept): the transformed features in the configured
    order, the matrix row a mixture is fitted on and scores. Computed row-wise from the
    raw values and the set's fitted parameters (int_feature_transform_params), with the
    macros those parameters were fitted by. Feature sets with a feature that cannot be
    transformed have no vectors.
-#}
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
        list(transform order by feature_index) as transforms,
        list(log_offset order by feature_index) as log_offsets,
        list(scale_min order by feature_index) as scale_mins,
        list(scale_max order by feature_index) as scale_maxs,
        bool_and(is_transformable) as is_transformable
    from transform_params
    group by feature_set

),

final as (

    -- Feature i of a detection from its raw value i and the set's parameters i (lists
    -- in the configured order), one expression for every set and feature.
    select
        kept.feature_set,
        kept.detection_id,
        list_transform(
            range(1, len(set_params.transforms) + 1),
            i -> {{ scaled_feature_value(
                'set_params.transforms[i]',
                'kept.raw_values[i]',
                'set_params.log_offsets[i]',
                'set_params.scale_mins[i]',
                'set_params.scale_maxs[i]'
            ) }}
        ) as features
    from kept
    inner join set_params on kept.feature_set = set_params.feature_set
    where set_params.is_transformable

)

select * from final
