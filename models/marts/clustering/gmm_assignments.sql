-- Each detection's cluster in every run: the raw component number, the label
-- aligned to the reference run (var gmm_comparison.reference_run; stable
-- across runs and seeds), the membership probability, and the log-likelihood
-- under the mixture with its percentile within the run.
with

clusters as (

    select * from {{ ref('int_gmm_clusters') }}

),

alignment as (

    select * from {{ ref('gmm_component_alignment') }}

),

final as (

    select
        clusters.run_id,
        clusters.detection_id,
        clusters.cluster,
        alignment.aligned_cluster,
        clusters.probability,
        clusters.log_likelihood,
        clusters.log_likelihood_percentile
    from clusters
    inner join alignment
        on
            clusters.run_id = alignment.run_id
            and clusters.cluster = alignment.component

)

select * from final
