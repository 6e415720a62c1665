-- Detections left out of a feature set because a feature is null or not finite.
with

feature_inputs as (

    select * from {{ ref('int_feature_inputs') }}

),

final as (

    select
        feature_set,
        detection_id,
        unusable_features
    from feature_inputs
    where len(unusable_features) > 0

)

select * from final
