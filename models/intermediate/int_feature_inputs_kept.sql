{{ config(materialized='view') }}
-- The feature inputs of the detections kept in each feature set: those with no null or
-- non-finite feature in it (the others are listed in feature_exclusions).
with

feature_inputs as (

    select * from {{ ref('int_feature_inputs') }}

),

final as (

    select
        feature_set,
        detection_id,
        raw_values
    from feature_inputs
    where len(unusable_features) = 0

)

select * from final
