-- Whether each feature set can be fitted, and if not, why: the detections it keeps, the
-- features no detection has a value of (a column absent from the input, or empty), and
-- the features that cannot be transformed (int_feature_transform_params). int_gmm_fits
-- skips the runs of an unusable set with this reason, and the build log repeats it.
with

feature_inputs as (

    select * from {{ ref('int_feature_inputs') }}

),

transform_params as (

    select * from {{ ref('int_feature_transform_params') }}

),

feature_values as (

    select
        feature_set,
        unnest(range(len(raw_values))) as feature_index,
        unnest(raw_values) as raw_value
    from feature_inputs

),

valued as (

    select
        feature_set,
        feature_index,
        count(*) filter (where isfinite(raw_value)) as n_valued
    from feature_values
    group by feature_set, feature_index

),

by_set as (

    select
        transform_params.feature_set,
        max(transform_params.n_detections) as n_detections,
        coalesce(
            list(transform_params.feature order by transform_params.feature_index)
            filter (where coalesce(valued.n_valued, 0) = 0),
            []
        ) as features_without_values,
        coalesce(
            list(transform_params.feature order by transform_params.feature_index)
            filter (where not transform_params.is_transformable),
            []
        ) as untransformable_features
    from transform_params
    left join valued
        on
            transform_params.feature_set = valued.feature_set
            and transform_params.feature_index = valued.feature_index
    group by transform_params.feature_set

),

final as (

    select
        feature_set,
        n_detections,
        features_without_values,
        untransformable_features,
        case
            when len(features_without_values) > 0
                then
                    'no detection has a value of '
                    || array_to_string(features_without_values, ', ')
                    || ' (absent from the input, or empty in every row)'
            when n_detections = 0
                then 'no detection has every feature of the set (see feature_exclusions)'
            when len(untransformable_features) > 0
                then
                    array_to_string(untransformable_features, ', ')
                    || ' is 0 in every detection kept, so ln(x + m/10) has no m'
                    || ' (the smallest non-zero value)'
        end as unusable_reason
    from by_set

)

select * from final
