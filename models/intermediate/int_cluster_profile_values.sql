{{ config(materialized='view') }}
{#-
    The values cluster_profiles describes: for every detection a run assigned, its cluster
    and its descriptors in the order of int_cluster_profile_descriptors (the run's own
    features raw, then the positions of profile_positions()), as one list.
-#}
{%- set positions = profile_positions() %}

with

fits as (

    select * from {{ ref('int_gmm_fits') }}

),

clusters as (

    select * from {{ ref('int_gmm_clusters') }}

),

feature_inputs as (

    select * from {{ ref('int_feature_inputs') }}

),

detections as (

    select * from {{ ref('stg_csc__detections') }}

),

runs as (

    select
        run_id,
        feature_set
    from fits
    where fit_kind = 'run' and skipped_reason is null

),

final as (

    select
        clusters.run_id,
        clusters.cluster,
        clusters.detection_id,
        list_concat(
            feature_inputs.raw_values,
            [
                {%- for position in positions %}
                    ({{ position.expression }})::double{{ "," if not loop.last }}
                {%- endfor %}
            ]
        ) as descriptor_values
    from clusters
    inner join runs on clusters.run_id = runs.run_id
    inner join feature_inputs
        on
            runs.feature_set = feature_inputs.feature_set
            and clusters.detection_id = feature_inputs.detection_id
    inner join detections on clusters.detection_id = detections.detection_id

)

select * from final
