-- The run table: one row per configured Gaussian-mixture run, with how it was
-- fitted, how well (BIC, AIC, lower bound, silhouette) and how stable its clusters
-- are across seeds (adjusted Rand index of refits against the run); a run the data
-- could not support has only its configuration and the reason it was skipped.
with

fits as (

    select * from {{ ref('int_gmm_fits') }}
    where fit_kind = 'run'

),

refits as (

    select * from {{ ref('gmm_stability') }}

),

stability as (

    select
        run_id,
        list(seed order by seed) as stability_seeds,
        {{ sorted_aggregate('avg', 'adjusted_rand_index') }} as stability_ari_mean,
        min(adjusted_rand_index) as stability_ari_min,
        {{ sorted_aggregate('avg', 'aligned_agreement') }} as stability_aligned_agreement
    from refits
    group by run_id

),

final as (

    select
        fits.run_id,
        fits.skipped_reason,
        fits.feature_set,
        fits.feature_names,
        fits.n_components,
        fits.covariance_type,
        fits.random_state,
        fits.converged,
        fits.n_iter,
        fits.lower_bound,
        fits.bic,
        fits.aic,
        fits.silhouette,
        fits.silhouette_sample_size,
        stability.stability_seeds,
        stability.stability_ari_mean,
        stability.stability_ari_min,
        stability.stability_aligned_agreement,
        '{{ var("gmm_comparison")["reference_run"] }}' as reference_run,
        fits.n_detections,
        fits.estimator_params,
        fits.sklearn_version,
        fits.fit_seconds,
        fits.fit_worker,
        fits.fitted_at
    from fits
    left join stability on fits.run_id = stability.run_id

)

select * from final
