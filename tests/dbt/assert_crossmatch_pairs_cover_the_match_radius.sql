-- Pairs fetched from CDS X-Match (`python -m ingest simbad`) hold only the SIMBAD
-- objects within the radius they were fetched with, which the loader records in
-- the load log. Matching within a larger simbad_match_radius_arcsec would
-- silently miss the objects in between: each row returned names the file and
-- says what to do.
{%- set match_radius_arcsec = var('simbad_match_radius_arcsec') %}

with

load_log as (

    select * from {{ ref('stg_ingest__load_log') }}

),

latest_load as (

    select max(load_id) as load_id
    from load_log

),

final as (

    select
        load_log.file,
        load_log.crossmatch_radius_arcsec,
        {{ match_radius_arcsec }} as simbad_match_radius_arcsec,
        'the pairs in ' || load_log.file || ' were fetched within '
        || load_log.crossmatch_radius_arcsec || ' arcsec, less than the match radius '
        || {{ match_radius_arcsec }} || ' arcsec: fetch them again with'
        || ' python -m ingest simbad --radius ' || {{ match_radius_arcsec }}
        || ' or lower var simbad_match_radius_arcsec' as problem

    from load_log
    inner join latest_load on load_log.load_id = latest_load.load_id
    where
        load_log.raw_table = 'simbad_crossmatch'
        and load_log.crossmatch_radius_arcsec < {{ match_radius_arcsec }}

)

select * from final
