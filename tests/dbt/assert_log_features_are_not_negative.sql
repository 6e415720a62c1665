-- A log_minmax feature is ln(x + m/10) of a count rate, area or energy: a negative raw
-- value of a kept detection would have no logarithm. One row per such value.

with

kept as (

    select * from {{ ref('int_feature_inputs_kept') }}

),

transform_params as (

    select * from {{ ref('int_feature_transform_params') }}

),

raw_values as (

    {{ unnested_feature_values('kept', 'raw_values', 'transform_params') }}

),

negative_values as (

    select
        feature_set,
        detection_id,
        feature,
        value as raw_value
    from raw_values
    where transform = 'log_minmax' and value < 0

)

select * from negative_values
