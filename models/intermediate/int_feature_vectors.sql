-- One row per (feature set, detection): the transformed features in the
-- configured order, as the matrix row a mixture is fitted on and scores.
with

detection_features as (

    select * from {{ ref('int_detection_features') }}

),

final as (

    select
        feature_set,
        detection_id,
        list(value order by feature_index) as features
    from detection_features
    group by feature_set, detection_id

)

select * from final
