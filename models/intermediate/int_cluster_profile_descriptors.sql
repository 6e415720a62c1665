{{ config(materialized='view') }}
{#-
    The descriptors the cluster profiles of a feature set's runs describe, in order: the
    set's own features (raw, before their transform), then the positions of
    profile_positions(). One row per (feature set, descriptor).
-#}
{%- set positions = profile_positions() %}

with

features as (

    select * from {{ ref('int_feature_transform_params') }}

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
        feature_set,
        feature_index::integer as descriptor_index,
        feature as descriptor
    from features

    union all

    select
        feature_counts.feature_set,
        (feature_counts.n_features + positions.position_index)::integer as descriptor_index,
        positions.descriptor
    from feature_counts
    cross join positions

)

select * from final
