{#-
    Every detection of the classification run's feature set (var classification.run): its
    transformed features, its cluster in that run, and what it can teach or needs: 'labelled' when its counterpart's
    canonical type is one of the classes (with the class and its group), 'unlabelled'
    when it has no counterpart or one of var classification.unlabelled_types (these get
    classified), 'other' for every other SIMBAD type (neither learned from nor classified).
-#}
{%- set config = var('classification') %}

with

classification_run as (

    select
        run_id,
        feature_set
    from {{ ref('int_gmm_fits') }}
    where
        fit_kind = 'run'
        and skipped_reason is null
        and run_id = '{{ config.run }}'

),

feature_vectors as (

    select * from {{ ref('int_feature_vectors') }}

),

clusters as (

    select * from {{ ref('int_gmm_clusters') }}

),

counterparts as (

    select * from {{ ref('int_detection_counterparts') }}

),

detections as (

    select
        detection_id,
        name
    from {{ ref('stg_csc__detections') }}

),

classes as (

    {{ classification_classes() }}

),

final as (

    select
        classification_run.run_id,
        feature_vectors.detection_id,
        detections.name,
        feature_vectors.features,
        clusters.cluster,
        counterparts.otype_code,
        classes.class_name,
        classes.class_index,
        classes.class_group,
        case
            when classes.class_name is not null then 'labelled'
            when
                counterparts.main_id is null
                or counterparts.otype_code in (
                    {%- for code in config.unlabelled_types %}
                        '{{ code }}'{{ "," if not loop.last }}
                    {%- endfor %}
                )
                then 'unlabelled'
            else 'other'
        end as label_role
    from classification_run
    inner join feature_vectors on classification_run.feature_set = feature_vectors.feature_set
    inner join clusters
        on
            classification_run.run_id = clusters.run_id
            and feature_vectors.detection_id = clusters.detection_id
    inner join detections on feature_vectors.detection_id = detections.detection_id
    inner join counterparts on feature_vectors.detection_id = counterparts.detection_id
    left join classes on counterparts.otype_code = classes.class_name

)

select * from final
