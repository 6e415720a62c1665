-- Each detection's raw cluster in every run: the most probable component (ties go to
-- the lower component number, as numpy's argmax does), its probability, and the
-- detection's log-likelihood under the whole mixture with its percentile within the run
-- (low = unusual for this mixture).
with

scores as (

    select * from {{ ref('int_gmm_scores') }}

),

final as (

    select
        run_id,
        detection_id,
        -- list_position finds the first maximum: components number from 0
        (list_position(probabilities, list_max(probabilities)) - 1)::bigint as cluster,
        list_max(probabilities) as probability,
        log_likelihood,
        100.0 * percent_rank() over (
            partition by run_id order by log_likelihood
        ) as log_likelihood_percentile
    from scores

)

select * from final
