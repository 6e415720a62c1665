{{ config(materialized='view') }}
{#-
    The values cluster_profiles describes: for every detection of a feature set that its
    runs fitted (int_feature_vectors), its descriptors in the order of
    int_cluster_profile_descriptors (the set's own features raw, then the positions of
    profile_positions()), as one list. Every run of the set assigned each of them.
-#}
{%- set positions = profile_positions() %}

with

vectors as (

    select * from {{ ref('int_feature_vectors') }}

),

feature_inputs as (

    select * from {{ ref('int_feature_inputs') }}

),

detections as (

    select * from {{ ref('stg_csc__detections') }}

),

final as (

    select
        vectors.feature_set,
        vectors.detection_id,
        list_concat(
            feature_inputs.raw_values,
            [
                {%- for position in positions %}
                    ({{ position.expression }})::double{{ "," if not loop.last }}
                {%- endfor %}
            ]
        ) as descriptor_values
    from vectors
    inner join feature_inputs
        on
            vectors.feature_set = feature_inputs.feature_set
            and vectors.detection_id = feature_inputs.detection_id
    inner join detections on vectors.detection_id = detections.detection_id

)

select * from final
