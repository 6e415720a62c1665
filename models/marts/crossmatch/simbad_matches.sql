-- Every detection, matched or not (TOPCAT's find=best1 join=all1), with its nearest
-- SIMBAD object within the radius.
with

counterparts as (

    select * from {{ ref('int_detection_counterparts') }}

),

final as (

    select
        detection_id,
        main_id,
        main_type,
        other_types,
        simbad_ra,
        simbad_dec,
        separation_arcsec,
        n_candidates,
        match_method

    from counterparts

)

select * from final
