-- The fitted transform of every feature: what new detections need to be
-- transformed exactly as the fitted ones were.
with

kept as (

    select * from {{ ref('int_feature_inputs_kept') }}

),

log_offsets as (

    select
        feature_set,
        feature,
        min(raw_value) filter (where raw_value != 0) as smallest_nonzero
    from kept
    where transform = 'log_minmax'
    group by feature_set, feature

),

unscaled as (

    select
        kept.feature_set,
        kept.feature_index,
        kept.feature,
        kept.transform,
        log_offsets.smallest_nonzero,
        log_offsets.smallest_nonzero / 10 as log_offset,
        {{ unscaled_feature_value(
            'kept.transform', 'kept.raw_value', 'log_offsets.smallest_nonzero / 10'
        ) }} as unscaled_value
    from kept
    left join log_offsets
        on kept.feature_set = log_offsets.feature_set and kept.feature = log_offsets.feature

),

final as (

    select
        feature_set,
        feature_index,
        feature,
        transform,
        any_value(smallest_nonzero) as smallest_nonzero,
        any_value(log_offset) as log_offset,
        case when transform != 'none' then min(unscaled_value) end as scale_min,
        case when transform != 'none' then max(unscaled_value) end as scale_max,
        count(*) as n_detections
    from unscaled
    group by feature_set, feature_index, feature, transform

)

select * from final
