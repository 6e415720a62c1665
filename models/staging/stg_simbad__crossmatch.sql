with

source as (

    select * from {{ source('simbad', 'simbad_crossmatch') }}

),

renamed as (

    select
        main.detection_id(name, obsid, region_id) as detection_id,
        main_id,
        ra,
        dec,
        trim(main_type) as main_type,
        other_types,
        ang_dist_arcsec as reported_separation_arcsec

    from source

)

select * from renamed
