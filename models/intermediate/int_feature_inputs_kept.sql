-- The feature inputs of the detections kept in each feature set: those with no
-- null or non-finite feature in it (the others are listed in feature_exclusions).
with

feature_inputs as (

    select * from {{ ref('int_feature_inputs') }}

),

final as (

    select
        feature_set,
        feature_index,
        feature,
        transform,
        detection_id,
        raw_value
    from feature_inputs
    qualify bool_and(is_usable) over (partition by feature_set, detection_id)

)

select * from final
