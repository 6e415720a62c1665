-- Each detection's membership probability for every component of every run, long form
-- (scored once per run in int_gmm_scores).
with

scores as (

    select * from {{ ref('int_gmm_scores') }}

),

final as (

    select
        run_id,
        detection_id,
        unnest(range(len(probabilities))) as component,
        unnest(probabilities) as probability
    from scores

)

select * from final
