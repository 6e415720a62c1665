{{ config(materialized='view') }}
-- Every kept detection's features, raw and transformed, long form: int_feature_vectors
-- and int_feature_inputs side by side, feature by feature, for inspection. A view: the
-- vectors hold the same values, in the form the mixtures use.
with

feature_vectors as (

    select * from {{ ref('int_feature_vectors') }}

),

kept as (

    select * from {{ ref('int_feature_inputs_kept') }}

),

transform_params as (

    select * from {{ ref('int_feature_transform_params') }}

),

final as (

    select
        feature_vectors.feature_set,
        feature_vectors.detection_id,
        transform_params.feature_index,
        transform_params.feature,
        transform_params.transform,
        kept.raw_values[transform_params.feature_index + 1] as raw_value,
        feature_vectors.features[transform_params.feature_index + 1] as value
    from feature_vectors
    inner join kept
        on
            feature_vectors.feature_set = kept.feature_set
            and feature_vectors.detection_id = kept.detection_id
    inner join transform_params on feature_vectors.feature_set = transform_params.feature_set

)

select * from final
