{#
    SQL macros persisted in the warehouse, so that they work in the plain
    `duckdb` shell (which cannot load the Python UDFs) as well as in models.
    Created before any model is built (on-run-start).
#}
{% macro create_shell_macros() %}
-- The detection key (name, obsid, region_id) as one readable string,
-- e.g. '2CXO J001954.3+155741|1595|57'; region_id may be absent (null).
create or replace macro main.detection_id(name, obsid, region_id) as
    concat_ws('|', name, obsid::varchar, coalesce(region_id::varchar, ''));

-- Haversine of the angular separation, sin^2(separation / 2), of two positions
-- in degrees.
create or replace macro main.ang_sep_haversine(ra1, dec1, ra2, dec2) as
    pow(sin(radians(dec2 - dec1) / 2), 2)
    + cos(radians(dec1)) * cos(radians(dec2)) * pow(sin(radians(ra2 - ra1) / 2), 2);
-- Angular separation in arcsec by the haversine formula, stable at small
-- separations and across RA 0/360; null if any coordinate is null. atan2
-- rather than asin(least(1, ...)): least() skips nulls, which made a missing
-- position 180 degrees away, and rounding can push the haversine past 1.
create or replace macro main.ang_sep_arcsec(ra1, dec1, ra2, dec2) as
    7200.0 * degrees(atan2(
        sqrt(main.ang_sep_haversine(ra1, dec1, ra2, dec2)),
        sqrt(greatest(0.0, 1.0 - main.ang_sep_haversine(ra1, dec1, ra2, dec2)))
    ));

-- ICRS (ra_deg, dec_deg) in degrees to a unit vector rotated into Galactic axes.
-- The rotation is astropy's ICRS -> FK5(J2000) frame bias followed by its
-- FK5 -> Galactic matrix, so l and b agree with astropy to ~1e-11 degrees.
create or replace macro main.galactic_x(ra_deg, dec_deg) as
    -0.05487565771259163 * cos(radians(dec_deg)) * cos(radians(ra_deg))
    - 0.8734370519556158 * cos(radians(dec_deg)) * sin(radians(ra_deg))
    - 0.4838350736167154 * sin(radians(dec_deg));
create or replace macro main.galactic_y(ra_deg, dec_deg) as
    0.4941094371927268 * cos(radians(dec_deg)) * cos(radians(ra_deg))
    - 0.4448297212232952 * cos(radians(dec_deg)) * sin(radians(ra_deg))
    + 0.7469821839866676 * sin(radians(dec_deg));
create or replace macro main.galactic_z(ra_deg, dec_deg) as
    -0.8676661375596576 * cos(radians(dec_deg)) * cos(radians(ra_deg))
    - 0.19807633727300053 * cos(radians(dec_deg)) * sin(radians(ra_deg))
    + 0.4559838136873017 * sin(radians(dec_deg));
-- Galactic longitude in [0, 360) and latitude in [-90, 90], degrees.
create or replace macro main.galactic_l(ra_deg, dec_deg) as
    (degrees(atan2(main.galactic_y(ra_deg, dec_deg), main.galactic_x(ra_deg, dec_deg))) + 360.0) % 360.0;
create or replace macro main.galactic_b(ra_deg, dec_deg) as
    degrees(atan2(
        main.galactic_z(ra_deg, dec_deg),
        sqrt(pow(main.galactic_x(ra_deg, dec_deg), 2) + pow(main.galactic_y(ra_deg, dec_deg), 2))
    ));

-- A feature's transform with its fitted parameters (feature_transform_params), the
-- expression the build transformed by: `make classify` transforms new detections with it.
create or replace macro main.scaled_feature_value(
    transform_name, raw_value, log_offset, scale_min, scale_max
) as
    {{ scaled_feature_value('transform_name', 'raw_value', 'log_offset', 'scale_min', 'scale_max') }};

{{ create_feature_class_macros() }}
{% endmacro %}

{% macro create_feature_class_macros() %}
{%- set hardness = var('hardness_classes') %}
{%- set variability = var('variability_classes') %}
{%- set regions = var('sky_regions') %}
-- Named feature classes; thresholds from dbt_project.yml (vars hardness_classes,
-- variability_classes, sky_regions), fixed at build time.
create or replace macro main.hardness_class(hard_hs, hard_ms) as
    case
        when hard_hs is null or hard_ms is null then null
        when hard_hs < {{ hardness.soft_below_hard_hs }}
            and hard_ms < {{ hardness.soft_below_hard_ms }} then 'soft'
        when hard_hs > {{ hardness.hard_above_hard_hs }}
            and hard_ms > {{ hardness.hard_above_hard_ms }} then 'hard'
        else 'medium'
    end;
create or replace macro main.variability_class(var_prob) as
    case
        when var_prob is null then null
        when var_prob >= {{ variability.variable_from }} then 'variable'
        when var_prob >= {{ variability.possibly_variable_from }} then 'possibly_variable'
        else 'not_variable'
    end;
create or replace macro main.sky_region(gal_b) as
    case
        when gal_b is null then null
        when abs(gal_b) < {{ regions.galactic_plane_below }} then 'galactic_plane'
        when abs(gal_b) < {{ regions.intermediate_latitude_below }} then 'intermediate_latitude'
        else 'high_latitude'
    end;
{% endmacro %}
