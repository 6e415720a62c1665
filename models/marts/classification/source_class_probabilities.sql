-- Per source (CSC name) and class model, each class's probability over the source's
-- classified detections: the mean, and the standard deviation (population, as the study's
-- np.std).
with

probabilities as (

    select * from {{ ref('detection_class_probabilities') }}

),

inputs as (

    select * from {{ ref('int_class_inputs') }}

),

final as (

    select
        probabilities.classifier,
        probabilities.training,
        inputs.name,
        probabilities.class_name,
        probabilities.class_index,
        probabilities.class_group,
        count(probabilities.probability) as n_detections,
        {{ sorted_aggregate('avg', 'probabilities.probability') }} as mean_probability,
        {{ sorted_aggregate('stddev_pop', 'probabilities.probability') }} as std_probability
    from probabilities
    inner join inputs on probabilities.detection_id = inputs.detection_id
    group by all

)

select * from final
