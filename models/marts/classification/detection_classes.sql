-- Each classified detection's class, for every class model: the most probable class (ties
-- to the first in var classification's order) with its probability, its group with the
-- group's summed probability, and, for a detection of a validation split's test side,
-- its true class. `all_labels` models classify the unlabelled detections; the split
-- models their test detections.
with

probabilities as (

    select * from {{ ref('detection_class_probabilities') }}

),

scores as (

    select * from {{ ref('int_class_scores') }}

),

inputs as (

    select * from {{ ref('int_class_inputs') }}

),

classes as (

    {{ classification_classes() }}

),

most_probable as (

    select
        classifier,
        training,
        detection_id,
        -- a detection no class can be given has null probabilities: no predicted class
        arg_max(class_name, (probability, -class_index)) filter (
            where probability is not null
        ) as predicted_class,
        max(probability) as probability
    from probabilities
    group by classifier, training, detection_id

),

group_probabilities as (

    select
        classifier,
        training,
        detection_id,
        class_group,
        {{ sorted_aggregate('sum', 'probability') }} as group_probability
    from probabilities
    group by classifier, training, detection_id, class_group

),

reasons as (

    select
        classifier,
        training,
        detection_id,
        any_value(no_class_reason) as no_class_reason
    from scores
    group by classifier, training, detection_id

),

final as (

    select
        most_probable.classifier,
        most_probable.training,
        inputs.run_id,
        most_probable.detection_id,
        inputs.name,
        inputs.cluster,
        inputs.label_role,
        inputs.class_name as true_class,
        inputs.class_group as true_group,
        most_probable.predicted_class,
        most_probable.probability,
        classes.class_group as predicted_group,
        group_probabilities.group_probability,
        reasons.no_class_reason
    from most_probable
    inner join inputs on most_probable.detection_id = inputs.detection_id
    inner join reasons
        on
            most_probable.classifier = reasons.classifier
            and most_probable.training = reasons.training
            and most_probable.detection_id = reasons.detection_id
    left join classes on most_probable.predicted_class = classes.class_name
    left join group_probabilities
        on
            most_probable.classifier = group_probabilities.classifier
            and most_probable.training = group_probabilities.training
            and most_probable.detection_id = group_probabilities.detection_id
            and classes.class_group = group_probabilities.class_group

)

select * from final
