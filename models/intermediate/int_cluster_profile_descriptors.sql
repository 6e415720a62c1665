{{ config(materialized='view') }}
{#-
    The descriptors every run's cluster profiles describe, in order: the features of the
    run's own feature set (raw, before their transform), then the positions of
    profile_positions(). One row per (run, descriptor).
-#}
{%- set positions = profile_positions() %}

with

fits as (

    select * from {{ ref('int_gmm_fits') }}

),

features as (

    select * from {{ ref('int_feature_transform_params') }}

),

runs as (

    select
        run_id,
        feature_set
    from fits
    where fit_kind = 'run' and skipped_reason is null

),

feature_counts as (

    select
        feature_set,
        count(*)::integer as n_features
    from features
    group by feature_set

),

positions as (

    {%- for position in positions %}

        select
            {{ loop.index0 }} as position_index,
            '{{ position.name }}' as descriptor
        {%- if not loop.last %}

            union all
        {%- endif %}
    {%- endfor %}

),

final as (

    select
        runs.run_id,
        features.feature_index::integer as descriptor_index,
        features.feature as descriptor
    from runs
    inner join features on runs.feature_set = features.feature_set

    union all

    select
        runs.run_id,
        (feature_counts.n_features + positions.position_index)::integer as descriptor_index,
        positions.descriptor
    from runs
    inner join feature_counts on runs.feature_set = feature_counts.feature_set
    cross join positions

)

select * from final
