{{ config(severity='warn', store_failures=true, schema='audit', alias='squeezed_features') }}
{#-
    A min-max-scaled feature squeezed by a few extreme values: the middle 98% of its
    detections (1st to 99th percentile) occupy less than 1% of [0, 1], so the mixtures see
    them as one value. Values beyond anything Chandra can measure stop the load (the
    contract's plausible ranges, ingest/schema.py); this warns about the plausible ones
    that still flatten a feature, listing the detections that stretch it (more than half
    the range away from the middle 98%). A warning, not an error: a real catalogue may
    hold such sources, and the analyst decides (drop them, or change the transform). The
    rows are kept in audit.squeezed_features, and the build log lists them.
-#}
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

scaled_values as (

    select
        feature_set,
        feature,
        detection_id,
        value
    from feature_values
    where transform != 'none'

),

spreads as (

    select
        feature_set,
        feature,
        quantile_cont(value, 0.01) as p01,
        quantile_cont(value, 0.99) as p99
    from scaled_values
    group by feature_set, feature

),

final as (

    select
        scaled_values.feature_set,
        scaled_values.feature,
        scaled_values.detection_id,
        scaled_values.value,
        spreads.p01,
        spreads.p99
    from scaled_values
    inner join spreads
        on
            scaled_values.feature_set = spreads.feature_set
            and scaled_values.feature = spreads.feature
    where
        spreads.p99 - spreads.p01 < 0.01
        and (scaled_values.value > spreads.p99 + 0.5 or scaled_values.value < spreads.p01 - 0.5)

)

select * from final
