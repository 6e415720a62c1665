-- The size of every cluster of every run: detections whose most probable component it
-- is, and their share of the run's detections.
with

clusters as (

    select * from {{ ref('int_gmm_clusters') }}

),

final as (

    select
        run_id,
        cluster,
        count(*) as n_detections,
        count(*) / sum(count(*)) over (partition by run_id) as fraction_of_run
    from clusters
    group by run_id, cluster

)

select * from final
