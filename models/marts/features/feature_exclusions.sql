-- Detections left out of a feature set because a feature is null or not finite.
with

feature_inputs as (

    select * from {{ ref('int_feature_inputs') }}

),

final as (

    select
        feature_set,
        detection_id,
        list(feature order by feature_index) filter (where not is_usable) as unusable_features
    from feature_inputs
    group by feature_set, detection_id
    having bool_or(not is_usable)

)

select * from final
