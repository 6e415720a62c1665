-- One row per detection: identifiers, position, the raw descriptors, the
-- SIMBAD counterpart with its canonical type, named feature classes, and the
-- cluster of the default run (var default_gmm_run). "Soft YSOs in cluster 2"
-- is one SELECT on this table.
with

detections as (

    select * from {{ ref('stg_csc__detections') }}

),

matches as (

    select * from {{ ref('simbad_matches') }}

),

object_types as (

    select * from {{ ref('int_simbad_type_resolution') }}

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

        matches.main_id,
        matches.main_type,
        object_types.otype_code,
        object_types.otype_label,
        coalesce(
            object_types.otype_family,
            case when matches.main_id is null then 'Unmatched' else 'Unknown' end
        ) as otype_family,
        matches.separation_arcsec as simbad_separation_arcsec,

        main.hardness_class(detections.hard_hs, detections.hard_ms) as hardness_class,
        main.variability_class(detections.var_prob_b) as variability_class,
        main.sky_region(detections.b) as sky_region,

        default_run.cluster,
        default_run.aligned_cluster,
        default_run.probability as cluster_probability,

        -- the raw descriptors, in staging's order
        detections.* exclude (detection_id, name, obsid, region_id, ra, dec, l, b)  -- noqa: RF02
    from detections
    left join matches on detections.detection_id = matches.detection_id
    left join object_types on matches.main_type = object_types.main_type
    left join default_run on detections.detection_id = default_run.detection_id

)

select * from final
