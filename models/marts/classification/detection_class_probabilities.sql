-- Every class probability of every classified detection, for every class model: long form,
-- with the squared Mahalanobis distance behind it (the published method only).
with

scores as (

    select * from {{ ref('int_class_scores') }}

),

classes as (

    {{ classification_classes() }}

),

final as (

    select
        scores.classifier,
        scores.training,
        scores.detection_id,
        scores.class_name,
        classes.class_index,
        classes.class_group,
        scores.squared_distance,
        scores.probability
    from scores
    inner join classes on scores.class_name = classes.class_name

)

select * from final
