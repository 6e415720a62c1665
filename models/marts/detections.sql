-- One row per detection: identifiers, position, the raw descriptors, the
-- SIMBAD counterpart with its canonical type, named feature classes, and the
-- cluster of the default run (var default_gmm_run). "Soft YSOs in cluster 2"
-- is one SELECT on this table.
with

detections as (

    select * from {{ ref('stg_csc__detections') }}

),

counterparts as (

    select * from {{ ref('int_detection_counterparts') }}

),

default_run as (

    select * from {{ ref('gmm_assignments') }}
    where run_id = '{{ var("default_gmm_run") }}'

),

final as (

    select
        detections.detection_id,
        detections.name,
        detections.obsid,
        detections.region_id,
        detections.ra,
        detections.dec,
        detections.l,
        detections.b,

        counterparts.main_id,
        counterparts.main_type,
        counterparts.otype_code,
        counterparts.otype_label,
        counterparts.otype_family,
        counterparts.separation_arcsec as simbad_separation_arcsec,

        main.hardness_class(detections.hard_hs, detections.hard_ms) as hardness_class,
        main.variability_class(detections.var_prob_b) as variability_class,
        main.sky_region(detections.b) as sky_region,

        default_run.cluster,
        default_run.aligned_cluster,
        default_run.probability as cluster_probability,

        -- the raw descriptors, in staging's order
        detections.* exclude (detection_id, name, obsid, region_id, ra, dec, l, b)  -- noqa: RF02
    from detections
    left join counterparts on detections.detection_id = counterparts.detection_id
    left join default_run on detections.detection_id = default_run.detection_id

)

select * from final
