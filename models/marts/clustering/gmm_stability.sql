-- Every run refitted with each seed of var gmm_comparison.stability_seeds: how far its
-- clusters move (adjusted Rand index and aligned agreement against the run's own), on
-- the refit's stability sample.
with

fits as (

    select * from {{ ref('int_gmm_fits') }}

),

final as (

    select
        run_id,
        random_state as seed,
        converged,
        n_iter::bigint as n_iter,
        n_detections,
        adjusted_rand_index,
        aligned_agreement,
        fit_seconds,
        fit_worker
    from fits
    where fit_kind = 'refit'

)

select * from final
