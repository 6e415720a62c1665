with

detections as (

    select detection_id from {{ ref('stg_csc__detections') }}

),

candidates as (

    select * from {{ ref('int_simbad_match_candidates') }}

),

best_matches as (

    select * from candidates
    where match_rank = 1

),

-- Every detection, matched or not (TOPCAT's find=best1 join=all1).
final as (

    select
        detections.detection_id,
        best_matches.main_id,
        best_matches.main_type,
        best_matches.other_types,
        best_matches.simbad_ra,
        best_matches.simbad_dec,
        best_matches.separation_arcsec,
        coalesce(best_matches.n_candidates, 0) as n_candidates,
        best_matches.match_method

    from detections
    left join best_matches
        on detections.detection_id = best_matches.detection_id

)

select * from final
