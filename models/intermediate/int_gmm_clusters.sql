-- Each detection's raw cluster in every run: the most probable component (ties
-- go to the lower component number, as numpy's argmax does), its probability,
-- and the detection's log-likelihood under the whole mixture with its
-- percentile within the run (low = unusual for this mixture).
with

memberships as (

    select * from {{ ref('gmm_memberships') }}

),

feature_vectors as (

    select * from {{ ref('feature_vectors') }}

),

fits as (

    select * from {{ ref('gmm_fits') }}

),

most_probable as (

    select
        run_id,
        detection_id,
        arg_max(component, (probability, -component)) as cluster,
        max(probability) as probability
    from memberships
    group by run_id, detection_id

),

likelihoods as (

    select
        fits.run_id,
        feature_vectors.detection_id,
        gmm_log_likelihood(
            '{{ ref("gmm_fits") }}', fits.run_id, feature_vectors.features
        ) as log_likelihood
    from fits
    inner join feature_vectors on fits.feature_set = feature_vectors.feature_set

),

final as (

    select
        most_probable.run_id,
        most_probable.detection_id,
        most_probable.cluster,
        most_probable.probability,
        likelihoods.log_likelihood,
        100.0 * percent_rank() over (
            partition by likelihoods.run_id order by likelihoods.log_likelihood
        ) as log_likelihood_percentile
    from most_probable
    inner join likelihoods
        on
            most_probable.run_id = likelihoods.run_id
            and most_probable.detection_id = likelihoods.detection_id

)

select * from final
