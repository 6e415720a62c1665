-- Every detection with its SIMBAD counterpart (the nearest candidate within the radius,
-- TOPCAT's find=best1 join=all1) and the counterpart's resolved object type: the one
-- place that says how a detection is labelled. Detections without a counterpart get the
-- label var unmatched_object_type at the type and family levels; counterparts whose
-- main_type did not resolve get var unresolved_object_type.
with

detections as (

    select detection_id from {{ ref('stg_csc__detections') }}

),

candidates as (

    select * from {{ ref('int_simbad_match_candidates') }}

),

object_types as (

    select * from {{ ref('int_simbad_type_resolution') }}

),

best_matches as (

    select * from candidates
    where match_rank = 1

),

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
        best_matches.match_method,
        object_types.otype_code,
        object_types.otype_label,
        case
            when best_matches.main_id is null then '{{ var("unmatched_object_type") }}'
            else coalesce(object_types.otype_code, '{{ var("unresolved_object_type") }}')
        end as object_type,
        case
            when best_matches.main_id is null then '{{ var("unmatched_object_type") }}'
            else coalesce(object_types.otype_family, '{{ var("unresolved_object_type") }}')
        end as otype_family

    from detections
    left join best_matches
        on detections.detection_id = best_matches.detection_id
    left join object_types
        on best_matches.main_type = object_types.main_type

)

select * from final
