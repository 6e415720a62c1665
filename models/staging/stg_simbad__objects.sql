with

source as (

    select * from {{ source('simbad', 'simbad_objects') }}

),

renamed as (

    select
        main_id,
        ra,
        dec,
        trim(main_type) as main_type,
        other_types,
        coo_err_maj,
        coo_err_min,
        coo_err_angle,
        nbref,
        radvel,
        redshift,
        sp_type,
        morph_type,
        plx,
        pmra,
        pmdec,
        mag_b,
        mag_v,
        mag_r,
        mag_j,
        mag_h,
        mag_k,
        mag_u_sdss,
        mag_g_sdss,
        mag_r_sdss,
        mag_i_sdss,
        mag_z_sdss

    from source

)

select * from renamed
