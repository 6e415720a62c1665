with

source as (

    select * from {{ source('csc', 'csc_detections') }}

),

renamed as (

    select
        -- keys
        main.detection_id(name, obsid, region_id) as detection_id,
        name,
        obsid,
        region_id,

        -- position (ICRS) and its Galactic equivalent
        ra,
        dec,
        main.galactic_l(ra, dec) as l,
        main.galactic_b(ra, dec) as b,

        -- detection
        theta,
        significance,
        likelihood,
        src_area_b,
        flux_aper_b,

        -- spectral shape
        hard_hm,
        hard_hs,
        hard_ms,
        powlaw_gamma,
        powlaw_gamma_lolim,
        powlaw_gamma_hilim,
        bb_kt,
        bb_kt_lolim,
        bb_kt_hilim,

        -- intra-observation variability per band: b(road), h(ard), m(edium), s(oft)
        var_prob_b,
        var_sigma_b,
        var_mean_b,
        var_min_b,
        var_max_b,
        var_prob_h,
        var_sigma_h,
        var_mean_h,
        var_min_h,
        var_max_h,
        var_prob_m,
        var_sigma_m,
        var_mean_m,
        var_min_m,
        var_max_m,
        var_prob_s,
        var_sigma_s,
        var_mean_s,
        var_min_s,
        var_max_s,

        -- Kolmogorov-Smirnov and Kuiper variability probabilities
        ks_prob_b,
        ks_prob_h,
        ks_prob_m,
        ks_prob_s,
        kp_prob_b,
        kp_prob_h,
        kp_prob_m,
        kp_prob_s,

        -- good time intervals (Chandra time: s since 1998-01-01 TT)
        gti_start,
        gti_stop,
        gti_elapse

    from source

)

select * from renamed
