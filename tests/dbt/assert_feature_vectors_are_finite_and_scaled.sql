-- Every vector holds one value per feature of its set, and every transformed feature is
-- a finite number in [0, 1] after a log_minmax or minmax transform: one row per vector
-- of the wrong length and per value that is not.

with

feature_vectors as (

    select * from {{ ref('int_feature_vectors') }}

),

transform_params as (

    select * from {{ ref('int_feature_transform_params') }}

),

feature_values as (

    {{ unnested_feature_values('feature_vectors', 'features', 'transform_params') }}

),

set_sizes as (

    select
        feature_set,
        count(*) as n_features
    from transform_params
    group by feature_set

),

vectors_of_wrong_length as (

    select
        feature_vectors.feature_set,
        feature_vectors.detection_id,
        'vector of ' || len(feature_vectors.features) || ' values' as feature,
        null::double as value
    from feature_vectors
    inner join set_sizes on feature_vectors.feature_set = set_sizes.feature_set
    where len(feature_vectors.features) != set_sizes.n_features

),

values_out_of_range as (

    select
        feature_set,
        detection_id,
        feature,
        value
    from feature_values
    where
        value is null
        or not isfinite(value)
        or (transform != 'none' and value not between 0 and 1)

),

final as (

    select * from vectors_of_wrong_length
    union all
    select * from values_out_of_range

)

select * from final
