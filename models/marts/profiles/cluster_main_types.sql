-- For every run, cluster and SIMBAD main_type: how many detections, and the
-- mean membership probability of each component (the original analysis's
-- per-cluster tables). Detections without a SIMBAD counterpart are grouped
-- under var unmatched_main_type, as those tables printed them (pandas' NaN).
with

assignments as (

    select * from {{ ref('gmm_assignments') }}

),

memberships as (

    select * from {{ ref('gmm_memberships') }}

),

counterparts as (

    select * from {{ ref('int_detection_counterparts') }}

),

labelled as (

    select
        assignments.run_id,
        assignments.detection_id,
        assignments.cluster,
        coalesce(counterparts.main_type, '{{ var("unmatched_main_type") }}') as main_type,
        counterparts.otype_code,
        counterparts.otype_family
    from assignments
    inner join counterparts on assignments.detection_id = counterparts.detection_id

),

mean_probabilities as (

    select
        labelled.run_id,
        labelled.cluster,
        labelled.main_type,
        memberships.component,
        {{ sorted_aggregate('avg', 'memberships.probability') }} as mean_probability
    from labelled
    inner join memberships
        on
            labelled.run_id = memberships.run_id
            and labelled.detection_id = memberships.detection_id
    group by labelled.run_id, labelled.cluster, labelled.main_type, memberships.component

),

sizes as (

    select
        run_id,
        cluster,
        main_type,
        any_value(otype_code) as otype_code,
        any_value(otype_family) as otype_family,
        count(*) as size
    from labelled
    group by run_id, cluster, main_type

),

final as (

    select
        sizes.run_id,
        sizes.cluster,
        sizes.main_type,
        sizes.otype_code,
        sizes.otype_family,
        sizes.size,
        list(
            mean_probabilities.mean_probability order by mean_probabilities.component
        ) as mean_probabilities
    from sizes
    inner join mean_probabilities
        on
            sizes.run_id = mean_probabilities.run_id
            and sizes.cluster = mean_probabilities.cluster
            and sizes.main_type = mean_probabilities.main_type
    group by
        sizes.run_id,
        sizes.cluster,
        sizes.main_type,
        sizes.otype_code,
        sizes.otype_family,
        sizes.size

)

select * from final
