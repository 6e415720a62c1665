-- Every detection of every run's feature set scored once against the run's stored
-- mixture (int_gmm_fits) by the Python UDF gmm_score: each component's membership
-- probability and the detection's log-likelihood under the whole mixture.
with

feature_vectors as (

    select * from {{ ref('int_feature_vectors') }}

),

runs as (

    select
        run_id,
        feature_set
    from {{ ref('int_gmm_fits') }}
    where fit_kind = 'run' and skipped_reason is null

),

-- materialized: the struct's two fields must not make DuckDB call the UDF twice
scored as materialized (

    select
        runs.run_id,
        feature_vectors.detection_id,
        gmm_score(runs.run_id, feature_vectors.features) as score
    from runs
    inner join feature_vectors on runs.feature_set = feature_vectors.feature_set

),

final as (

    select
        scored.run_id,
        scored.detection_id,
        struct_extract(scored.score, 'probabilities') as probabilities,
        struct_extract(scored.score, 'log_likelihood') as log_likelihood
    from scored

)

select * from final
