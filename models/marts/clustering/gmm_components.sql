-- The fitted parameters: one row per run and component, enough to reuse a
-- mixture without refitting (python_udfs.mixture.mixture_from_parameters).
with

fits as (

    select * from {{ ref('gmm_fits') }}

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
