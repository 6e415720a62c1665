-- Every run assigns every detection of its feature set exactly once: per run,
-- the assignments, the cluster sizes, the per-cluster type tables and the feature
-- table agree.
with

runs as (

    select * from {{ ref('gmm_runs') }}
    where skipped_reason is null

),

feature_rows as (

    select
        feature_set,
        count(*) as n_rows
    from {{ ref('int_feature_vectors') }}
    group by feature_set

),

assigned as (

    select
        run_id,
        count(*) as n_assigned,
        count(distinct detection_id) as n_distinct
    from {{ ref('gmm_assignments') }}
    group by run_id

),

cluster_sizes as (

    select
        run_id,
        sum(n_detections) as n_in_clusters
    from {{ ref('int_gmm_cluster_sizes') }}
    group by run_id

),

type_tables as (

    select
        run_id,
        sum(size) as n_in_tables
    from {{ ref('cluster_main_types') }}
    group by run_id

),

final as (

    select
        runs.run_id,
        feature_rows.n_rows,
        runs.n_detections,
        assigned.n_assigned,
        assigned.n_distinct,
        cluster_sizes.n_in_clusters,
        type_tables.n_in_tables
    from runs
    left join feature_rows on runs.feature_set = feature_rows.feature_set
    left join assigned on runs.run_id = assigned.run_id
    left join cluster_sizes on runs.run_id = cluster_sizes.run_id
    left join type_tables on runs.run_id = type_tables.run_id
    where
        runs.n_detections is distinct from feature_rows.n_rows
        or assigned.n_assigned is distinct from feature_rows.n_rows
        or assigned.n_distinct is distinct from feature_rows.n_rows
        or cluster_sizes.n_in_clusters is distinct from feature_rows.n_rows
        or type_tables.n_in_tables is distinct from feature_rows.n_rows

)

select * from final
