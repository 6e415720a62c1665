-- Per source (CSC name) and class model, the study's two votes over its detections: the
-- soft vote, the class with the largest mean probability (ties to the first class of var
-- classification), and the hard vote, the most common detection class (ties to the class
-- of the earliest detection, by detection_id). A source is 'unique' when they agree,
-- 'ambiguous' otherwise; its group is the soft class's. For a test source of the source
-- split, its true class: the most common among its labelled detections (its stratum).
with

source_probabilities as (

    select * from {{ ref('source_class_probabilities') }}

),

detection_classes as (

    select * from {{ ref('detection_classes') }}

),

splits as (

    select * from {{ ref('int_class_splits') }}

),

classes as (

    {{ classification_classes() }}

),

soft_votes as (

    select
        classifier,
        training,
        name,
        max(n_detections) as n_detections,
        arg_max(class_name, (mean_probability, -class_index)) filter (
            where mean_probability is not null
        ) as soft_class,
        max(mean_probability) as soft_class_probability
    from source_probabilities
    group by classifier, training, name

),

class_counts as (

    select
        classifier,
        training,
        name,
        predicted_class,
        count(*) as n_votes,
        min(detection_id) as first_detection
    from detection_classes
    where predicted_class is not null
    group by classifier, training, name, predicted_class

),

hard_votes as (

    select
        classifier,
        training,
        name,
        predicted_class as hard_class,
        n_votes as hard_class_votes
    from class_counts
    qualify row_number() over (
        partition by classifier, training, name order by n_votes desc, first_detection asc
    ) = 1

),

true_classes as (

    select
        name,
        class_name,
        count(*) as n_labelled
    from splits
    where split = 'sources'
    group by name, class_name
    qualify row_number() over (
        partition by name order by count(*) desc, class_name asc
    ) = 1

),

final as (

    select
        soft_votes.classifier,
        soft_votes.training,
        soft_votes.name,
        soft_votes.n_detections,
        soft_votes.soft_class,
        soft_votes.soft_class_probability,
        hard_votes.hard_class,
        hard_votes.hard_class_votes,
        case
            when soft_votes.soft_class is null then null
            when soft_votes.soft_class = hard_votes.hard_class then 'unique'
            else 'ambiguous'
        end as agreement,
        classes.class_group,
        -- only the source split holds sources out: the other training has no true class
        case
            when soft_votes.training = 'source_split' then true_classes.class_name
        end as true_class,
        case
            when soft_votes.training = 'source_split' then true_groups.class_group
        end as true_group
    from soft_votes
    left join hard_votes
        on
            soft_votes.classifier = hard_votes.classifier
            and soft_votes.training = hard_votes.training
            and soft_votes.name = hard_votes.name
    left join classes on soft_votes.soft_class = classes.class_name
    -- on the name alone: a condition on one side only would make it a nested-loop join
    left join true_classes on soft_votes.name = true_classes.name
    left join classes as true_groups on true_classes.class_name = true_groups.class_name

)

select * from final
