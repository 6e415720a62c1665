-- Each detection's membership probability for every component of every run,
-- scored against the stored mixture (gmm_fits) by the Python UDF.
with

feature_vectors as (

    select * from {{ ref('feature_vectors') }}

),

fits as (

    select * from {{ ref('gmm_fits') }}

),

scored as (

    select
        fits.run_id,
        feature_vectors.detection_id,
        gmm_membership_probabilities(
            '{{ ref("gmm_fits") }}', fits.run_id, feature_vectors.features
        ) as probabilities
    from fits
    inner join feature_vectors on fits.feature_set = feature_vectors.feature_set

),

final as (

    select
        run_id,
        detection_id,
        unnest(range(len(probabilities))) as component,
        unnest(probabilities) as probability
    from scored

)

select * from final
