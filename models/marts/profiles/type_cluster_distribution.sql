-- How the SIMBAD types spread over the clusters of every run, at two levels
-- (type_level): 'otype', the canonical object type (detections.otype_code), and
-- 'family' (detections.otype_family). One row per (run, level, type, cluster)
-- holding at least one detection. Detections without a counterpart form the type
-- var unmatched_object_type at both levels, and counterparts whose type did not resolve
-- the type var unresolved_object_type (int_detection_counterparts), so that every
-- assigned detection is counted once per level.
with

assignments as (

    select * from {{ ref('gmm_assignments') }}

),

counterparts as (

    select * from {{ ref('int_detection_counterparts') }}

),

cluster_sizes as (

    select * from {{ ref('int_gmm_cluster_sizes') }}

),

labelled as (

    select
        assignments.run_id,
        assignments.cluster,
        counterparts.object_type as otype,
        counterparts.otype_label,
        counterparts.otype_family
    from assignments
    inner join counterparts on assignments.detection_id = counterparts.detection_id

),

type_counts as (

    select
        run_id,
        'otype' as type_level,
        otype as object_type,
        otype_label,
        otype_family,
        cluster,
        count(*) as n_detections
    from labelled
    group by run_id, otype, otype_label, otype_family, cluster

    union all

    select
        run_id,
        'family' as type_level,
        otype_family as object_type,
        null as otype_label,
        otype_family,
        cluster,
        count(*) as n_detections
    from labelled
    group by run_id, otype_family, cluster

),

totals as (

    select
        type_counts.*,
        sum(type_counts.n_detections) over (
            partition by type_counts.run_id, type_counts.type_level, type_counts.object_type
        )::bigint as n_type_detections,
        cluster_sizes.n_detections as n_cluster_detections
    from type_counts
    inner join cluster_sizes
        on type_counts.run_id = cluster_sizes.run_id and type_counts.cluster = cluster_sizes.cluster

),

final as (

    select
        run_id,
        type_level,
        object_type,
        otype_label,
        otype_family,
        cluster,
        n_detections,
        n_type_detections,
        n_cluster_detections,
        n_detections / n_type_detections as fraction_of_type,
        n_detections / n_cluster_detections as fraction_of_cluster
    from totals

)

select * from final
