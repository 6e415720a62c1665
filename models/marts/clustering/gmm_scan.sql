-- The k scan (var gmm_scan): BIC, AIC and silhouette for every k and seed, on one fixed
-- sample of detections, so choosing k is a query.
with

fits as (

    select * from {{ ref('int_gmm_fits') }}

),

final as (

    select
        feature_set,
        n_components as k,
        random_state as seed,
        covariance_type,
        n_detections,
        converged,
        n_iter,
        bic,
        aic,
        silhouette,
        fit_seconds,
        fit_worker
    from fits
    where fit_kind = 'scan' and skipped_reason is null

)

select * from final
