{#- The table's rows have no meaningful order: without keeping insertion order
    DuckDB runs the union and the ranking on every core (twice as fast at CSC
    scale). A session setting, so it is put back after this model. -#}
{{ config(
    pre_hook="set preserve_insertion_order = false",
    post_hook="reset preserve_insertion_order"
) }}
{%- set radius_arcsec = var('simbad_match_radius_arcsec') -%}

with

detections as (

    select
        detection_id,
        ra,
        dec

    from {{ ref('stg_csc__detections') }}

),

simbad_objects as (

    select
        main_id,
        ra,
        dec,
        main_type,
        other_types

    from {{ ref('stg_simbad__objects') }}

),

external_pairs as (

    select * from {{ ref('stg_simbad__crossmatch') }}
    where main_id is not null

),

sql_pairs as (

    {{ sky_crossmatch(
        'detections', 'detection_id', 'simbad_objects', 'main_id', radius_arcsec,
        right_columns=['ra', 'dec', 'main_type', 'other_types']
    ) }}

),

sql_candidates as (

    select
        detection_id,
        main_id,
        ra as simbad_ra,
        dec as simbad_dec,
        main_type,
        other_types,
        separation_arcsec,
        'sql_crossmatch' as match_method

    from sql_pairs

),

-- The tool's pairs, their separation recomputed by the SQL crossmatch's formula
-- where SIMBAD's position came with them.
external_candidates as (

    select
        external_pairs.detection_id,
        external_pairs.main_id,
        external_pairs.ra as simbad_ra,
        external_pairs.dec as simbad_dec,
        external_pairs.main_type,
        external_pairs.other_types,
        coalesce(
            main.ang_sep_arcsec(
                detections.ra, detections.dec, external_pairs.ra, external_pairs.dec
            ),
            external_pairs.reported_separation_arcsec
        ) as separation_arcsec,
        'external' as match_method

    from external_pairs
    left join detections
        on external_pairs.detection_id = detections.detection_id

),

-- Held to the same radius; a pair found both ways is kept once, as the SQL
-- crossmatch found it.
external_candidates_kept as (

    select * from external_candidates
    where
        separation_arcsec <= {{ radius_arcsec }}
        and not exists (
            select 1 from sql_candidates
            where
                sql_candidates.detection_id = external_candidates.detection_id
                and sql_candidates.main_id = external_candidates.main_id
        )

),

candidates as (

    select * from sql_candidates
    union all
    select * from external_candidates_kept

),

ranked as (

    select
        *,
        row_number() over nearest_first as match_rank,
        count(*) over nearest_first as n_candidates

    from candidates
    window nearest_first as (
        partition by detection_id
        order by separation_arcsec, main_id
        rows between unbounded preceding and unbounded following
    )

),

final as (

    select
        detection_id,
        main_id,
        simbad_ra,
        simbad_dec,
        main_type,
        other_types,
        separation_arcsec,
        match_rank,
        n_candidates,
        match_method

    from ranked

)

select * from final
