{#-
    Every cluster of every run, feature by feature, in raw units: the 10th, 25th, 50th,
    75th and 90th percentiles of each descriptor over the cluster's detections, beside the
    same percentiles over the whole run (the detections the run assigned). One row per
    (run, cluster, descriptor). A run's descriptors are the features of its own feature
    set (var feature_sets, before their transform), then the Galactic latitude b, |b| and
    the longitude's distance from the Galactic centre (l itself wraps at 0/360, so its
    percentiles would mean nothing). Percentiles are quantile_cont: linear interpolation
    between order statistics.
-#}
{%- set positions = profile_positions() %}
{%- set fractions = '[0.1, 0.25, 0.5, 0.75, 0.9]' %}

with

assignments as (

    select * from {{ ref('gmm_assignments') }}

),

runs as (

    select
        run_id,
        feature_set
    from {{ ref('gmm_runs') }}

),

feature_inputs as (

    select * from {{ ref('int_feature_inputs') }}

),

features as (

    select * from {{ ref('int_feature_transform_params') }}

),

detections as (

    select * from {{ ref('stg_csc__detections') }}

),

feature_counts as (

    select
        feature_set,
        count(*)::integer as n_features
    from features
    group by feature_set

),

feature_values as (

    select
        feature_set,
        detection_id,
        unnest(range(len(raw_values)))::integer as feature_index,
        unnest(raw_values) as value
    from feature_inputs

),

position_values as (

    {%- for position in positions %}

        select
            detection_id,
            {{ loop.index0 }} as position_index,
            '{{ position.name }}' as descriptor,
            ({{ position.expression }})::double as value
        from detections
        {%- if not loop.last %}

            union all
        {%- endif %}
    {%- endfor %}

),

-- each run's own features, then the positions after them
descriptor_values as (

    select
        runs.run_id,
        feature_values.detection_id,
        feature_values.feature_index as descriptor_index,
        features.feature as descriptor,
        feature_values.value
    from runs
    inner join feature_values on runs.feature_set = feature_values.feature_set
    inner join features
        on
            feature_values.feature_set = features.feature_set
            and feature_values.feature_index = features.feature_index

    union all

    select
        runs.run_id,
        position_values.detection_id,
        feature_counts.n_features + position_values.position_index as descriptor_index,
        position_values.descriptor,
        position_values.value
    from runs
    inner join feature_counts on runs.feature_set = feature_counts.feature_set
    cross join position_values

),

assigned_values as (

    select
        assignments.run_id,
        assignments.cluster,
        descriptor_values.descriptor_index,
        descriptor_values.descriptor,
        descriptor_values.value
    from assignments
    inner join descriptor_values
        on
            assignments.run_id = descriptor_values.run_id
            and assignments.detection_id = descriptor_values.detection_id

),

cluster_sizes as (

    select * from {{ ref('int_gmm_cluster_sizes') }}

),

cluster_quantiles as (

    select
        run_id,
        cluster,
        descriptor_index,
        descriptor,
        count(value) as n_values,
        quantile_cont(value, {{ fractions }}) as quantiles
    from assigned_values
    group by run_id, cluster, descriptor_index, descriptor

),

sample_quantiles as (

    select
        run_id,
        descriptor,
        count(value) as n_values,
        quantile_cont(value, {{ fractions }}) as quantiles
    from assigned_values
    group by run_id, descriptor

),

final as (

    select
        cluster_quantiles.run_id,
        cluster_quantiles.cluster,
        cluster_quantiles.descriptor_index,
        cluster_quantiles.descriptor,
        cluster_sizes.n_detections,
        cluster_quantiles.n_values,
        cluster_quantiles.quantiles[1] as p10,
        cluster_quantiles.quantiles[2] as p25,
        cluster_quantiles.quantiles[3] as median,
        cluster_quantiles.quantiles[4] as p75,
        cluster_quantiles.quantiles[5] as p90,
        sample_quantiles.n_values as sample_n_values,
        sample_quantiles.quantiles[1] as sample_p10,
        sample_quantiles.quantiles[2] as sample_p25,
        sample_quantiles.quantiles[3] as sample_median,
        sample_quantiles.quantiles[4] as sample_p75,
        sample_quantiles.quantiles[5] as sample_p90
    from cluster_quantiles
    inner join cluster_sizes
        on
            cluster_quantiles.run_id = cluster_sizes.run_id
            and cluster_quantiles.cluster = cluster_sizes.cluster
    inner join sample_quantiles
        on
            cluster_quantiles.run_id = sample_quantiles.run_id
            and cluster_quantiles.descriptor = sample_quantiles.descriptor

)

select * from final
