-- Every held-out prediction of a validation model, as the metrics see it: per detection
-- of a split's test side, and per test source of the source split (its soft vote over
-- its detections' mean probabilities); at the class item_kind and at the group item_kind (a
-- group's probability is the sum of its classes'). One row per (model, item kind, label
-- level, item), with the true and predicted labels, the predicted label's probability,
-- the true label's, and the sum of the squared probabilities (for the Brier score).
with

probabilities as (

    select * from {{ ref('detection_class_probabilities') }}

),

detection_classes as (

    select * from {{ ref('detection_classes') }}
    where training != 'all_labels'

),

source_probabilities as (

    select * from {{ ref('source_class_probabilities') }}
    where training = 'source_split'

),

source_classes as (

    select * from {{ ref('source_classes') }}
    where training = 'source_split' and true_class is not null

),

detection_group_probabilities as (

    select
        classifier,
        training,
        detection_id,
        class_group,
        {{ sorted_aggregate('sum', 'probability') }} as probability
    from probabilities
    group by classifier, training, detection_id, class_group

),

source_group_probabilities as (

    select
        classifier,
        training,
        name,
        class_group,
        {{ sorted_aggregate('sum', 'mean_probability') }} as probability
    from source_probabilities
    group by classifier, training, name, class_group

),

detection_items as (

    select
        detection_classes.classifier,
        detection_classes.training,
        'detection' as item_kind,
        'class' as label_level,
        detection_classes.detection_id as item,
        detection_classes.true_class as true_label,
        detection_classes.predicted_class as predicted_label,
        detection_classes.probability as predicted_probability,
        max(probabilities.probability) filter (
            where probabilities.class_name = detection_classes.true_class
        ) as true_probability,
        {{ sorted_aggregate('sum', 'pow(probabilities.probability, 2)') }}
            as sum_squared_probabilities
    from detection_classes
    inner join probabilities
        on
            detection_classes.classifier = probabilities.classifier
            and detection_classes.training = probabilities.training
            and detection_classes.detection_id = probabilities.detection_id
    group by all

    union all

    select
        detection_classes.classifier,
        detection_classes.training,
        'detection' as item_kind,
        'group' as label_level,
        detection_classes.detection_id as item,
        detection_classes.true_group as true_label,
        detection_classes.predicted_group as predicted_label,
        detection_classes.group_probability as predicted_probability,
        max(group_totals.probability) filter (
            where group_totals.class_group = detection_classes.true_group
        ) as true_probability,
        {{ sorted_aggregate('sum', 'pow(group_totals.probability, 2)') }}
            as sum_squared_probabilities
    from detection_classes
    inner join detection_group_probabilities as group_totals
        on
            detection_classes.classifier = group_totals.classifier
            and detection_classes.training = group_totals.training
            and detection_classes.detection_id = group_totals.detection_id
    group by all

),

source_items as (

    select
        source_classes.classifier,
        source_classes.training,
        'source' as item_kind,
        'class' as label_level,
        source_classes.name as item,
        source_classes.true_class as true_label,
        source_classes.soft_class as predicted_label,
        source_classes.soft_class_probability as predicted_probability,
        max(source_probabilities.mean_probability) filter (
            where source_probabilities.class_name = source_classes.true_class
        ) as true_probability,
        {{ sorted_aggregate('sum', 'pow(source_probabilities.mean_probability, 2)') }}
            as sum_squared_probabilities
    from source_classes
    inner join source_probabilities
        on
            source_classes.classifier = source_probabilities.classifier
            and source_classes.training = source_probabilities.training
            and source_classes.name = source_probabilities.name
    group by all

    union all

    select
        source_classes.classifier,
        source_classes.training,
        'source' as item_kind,
        'group' as label_level,
        source_classes.name as item,
        source_classes.true_group as true_label,
        source_classes.class_group as predicted_label,
        max(group_totals.probability) filter (
            where group_totals.class_group = source_classes.class_group
        ) as predicted_probability,
        max(group_totals.probability) filter (
            where group_totals.class_group = source_classes.true_group
        ) as true_probability,
        {{ sorted_aggregate('sum', 'pow(group_totals.probability, 2)') }}
            as sum_squared_probabilities
    from source_classes
    inner join source_group_probabilities as group_totals
        on
            source_classes.classifier = group_totals.classifier
            and source_classes.training = group_totals.training
            and source_classes.name = group_totals.name
    group by all

),

final as (

    select * from detection_items
    union all
    select * from source_items

)

select * from final
