{#-
    The fitted transform of every feature: what new detections need to be transformed
    exactly as the fitted ones were, fitted on the detections kept in each set. A
    log_minmax feature whose raw value is 0 in every kept detection has no m (the smallest
    non-zero value), so its transform, and its feature set, is undefined: such a feature
    is not transformable, and the set's mixtures are skipped (int_gmm_fits says why).
-#}
{%- set feature_sets = var('feature_sets') %}

with

kept as (

    select * from {{ ref('int_feature_inputs_kept') }}

),

configured as (

    {%- for set_name, features in feature_sets.items() %}
        {%- set outer_loop = loop %}
        {%- for feature in features %}

            select
                '{{ set_name }}' as feature_set,
                {{ loop.index0 }} as feature_index,
                '{{ feature.name }}' as feature,
                '{{ feature.transform }}' as transform
            {%- if not (loop.last and outer_loop.last) %}

                union all
            {%- endif %}
        {%- endfor %}
    {%- endfor %}

),

raw_values as (

    select
        feature_set,
        unnest(range(len(raw_values))) as feature_index,
        unnest(raw_values) as raw_value
    from kept

),

log_offsets as (

    select
        raw_values.feature_set,
        raw_values.feature_index,
        min(raw_values.raw_value) filter (where raw_values.raw_value != 0) as smallest_nonzero
    from raw_values
    inner join configured
        on
            raw_values.feature_set = configured.feature_set
            and raw_values.feature_index = configured.feature_index
    where configured.transform = 'log_minmax'
    group by raw_values.feature_set, raw_values.feature_index

),

unscaled as (

    select
        raw_values.feature_set,
        raw_values.feature_index,
        {{ unscaled_feature_value(
            'configured.transform', 'raw_values.raw_value', 'log_offsets.smallest_nonzero / 10'
        ) }} as unscaled_value
    from raw_values
    inner join configured
        on
            raw_values.feature_set = configured.feature_set
            and raw_values.feature_index = configured.feature_index
    left join log_offsets
        on
            raw_values.feature_set = log_offsets.feature_set
            and raw_values.feature_index = log_offsets.feature_index

),

scales as (

    select
        feature_set,
        feature_index,
        min(unscaled_value) as scale_min,
        max(unscaled_value) as scale_max,
        count(*) as n_detections
    from unscaled
    group by feature_set, feature_index

),

final as (

    select
        configured.feature_set,
        configured.feature_index,
        configured.feature,
        configured.transform,
        log_offsets.smallest_nonzero,
        log_offsets.smallest_nonzero / 10 as log_offset,
        case when configured.transform != 'none' then scales.scale_min end as scale_min,
        case when configured.transform != 'none' then scales.scale_max end as scale_max,
        coalesce(scales.n_detections, 0) as n_detections,
        (
            configured.transform != 'log_minmax' or log_offsets.smallest_nonzero is not null
        ) as is_transformable
    from configured
    left join log_offsets
        on
            configured.feature_set = log_offsets.feature_set
            and configured.feature_index = log_offsets.feature_index
    left join scales
        on
            configured.feature_set = scales.feature_set
            and configured.feature_index = scales.feature_index

)

select * from final
