-- The fitted parameters: one row per run and component, enough to reuse a
-- mixture without refitting (clustering.storage.mixture_from_parameters).
with

fits as (

    select * from {{ ref('int_gmm_fits') }}
    where fit_kind = 'run' and skipped_reason is null

),

final as (

    select
        run_id,
        feature_names,
        unnest(range(n_components)) as component,
        unnest(weights) as weight,
        unnest(means) as mean,
        unnest(covariances) as covariance,
        unnest(precisions_cholesky) as precision_cholesky
    from fits

)

select * from final
