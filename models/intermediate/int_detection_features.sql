-- Every kept detection's transformed features, long form: the input of the mixtures.
with

kept as (

    select * from {{ ref('int_feature_inputs_kept') }}

),

transform_params as (

    select * from {{ ref('int_feature_transform_params') }}

),

final as (

    select
        kept.feature_set,
        kept.detection_id,
        kept.feature_index,
        kept.feature,
        kept.transform,
        kept.raw_value,
        {{ scaled_feature_value(
            'kept.transform',
            'kept.raw_value',
            'transform_params.log_offset',
            'transform_params.scale_min',
            'transform_params.scale_max'
        ) }} as value
    from kept
    inner join transform_params
        on
            kept.feature_set = transform_params.feature_set
            and kept.feature = transform_params.feature

)

select * from final
