-- How the SIMBAD types spread over the clusters of every run, at two levels
-- (type_level): 'otype', the canonical object type (detections.otype_code), and
-- 'family' (detections.otype_family). One row per (run, level, type, cluster)
-- holding at least one detection. Detections without a counterpart form the type
-- 'Unmatched' at both levels, and counterparts whose type did not resolve the type
-- 'Unknown', so that every assigned detection is counted once per level.
with

assignments as (

    select * from {{ ref('gmm_assignments') }}

),

detections as (

    select * from {{ ref('detections') }}

),

labelled as (

    select
        assignments.run_id,
        assignments.cluster,
        case
            when detections.main_id is null then 'Unmatched'
            else coalesce(detections.otype_code, 'Unknown')
        end as otype,
        detections.otype_label,
        detections.otype_family
    from assignments
    inner join detections on assignments.detection_id = detections.detection_id

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
        *,
        sum(n_detections) over (
            partition by run_id, type_level, object_type
        )::bigint as n_type_detections,
        sum(n_detections) over (
            partition by run_id, type_level, cluster
        )::bigint as n_cluster_detections
    from type_counts

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
