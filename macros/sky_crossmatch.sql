{#
    Sky crossmatch of two tables of ICRS positions (degrees): every pair within
    `radius_arcsec`, with its haversine separation in arcsec.

    No pair is compared unless both fall in neighbouring cells of a fixed grid:
    declination zones of height h >= radius, each cut into n(zone) RA cells at
    least h wide at the zone's edge nearest the pole (one cell, all RA, at the
    poles). Each right-hand row sits in exactly one cell; each left-hand row
    probes the few cells that its search circle can touch, wrapping RA at
    0/360 and covering all RA when the circle holds a pole. The join is then
    an equi-join on one integer cell key.

    The left table is the one expanded into probes (about 2.3 rows each with the
    default cell size): put the smaller table on the left.

    Arguments:
      left, right            relations or CTE names
      left_key, right_key    their identifying columns (distinct names)
      radius_arcsec          match radius
      right_columns          further right-hand columns to return
      cell_arcsec            zone height, at least the radius; default four times
                             the radius: fewer probes per left row than smaller
                             cells, and few right rows per cell even in crowded
                             fields
    Returns: left_key, right_key, right_columns..., separation_arcsec.
#}
{% macro sky_crossmatch(
    left,
    left_key,
    right,
    right_key,
    radius_arcsec,
    right_columns=[],
    cell_arcsec=none,
    left_ra='ra',
    left_dec='dec',
    right_ra='ra',
    right_dec='dec'
) -%}
{%- set grid = _sky_grid(radius_arcsec, cell_arcsec) -%}
{#- The search window, a little (~4 micro-arcsec) wider than the radius, so that
    rounding in the cell arithmetic never drops a pair at its edge; the
    haversine decides. -#}
{%- set window_deg = _sky_double(radius_arcsec / 3600.0 + 1e-9) -%}
with

sky_xm_left as (

    select
        {{ left_key }} as left_key,
        {{ left_ra }} as left_ra,
        {{ left_dec }} as left_dec,
        {{ _sky_normalised_ra(left_ra) }} as ra_normalised,
        -- Half-width in RA of the search circle: asin(sin r / cos dec), all RA
        -- (180 degrees) when the circle reaches a pole.
        case
            when abs({{ left_dec }}) + {{ window_deg }} >= 90 then 180e0
            else degrees(asin(
                sin(radians({{ window_deg }})) / cos(radians({{ left_dec }}))
            ))
        end as ra_half_width,
        unnest(range(
            {{ _sky_zone(left_dec ~ ' - ' ~ window_deg, grid) }},
            {{ _sky_zone(left_dec ~ ' + ' ~ window_deg, grid) }} + 1
        )) as zone

    from {{ left }}

),

sky_xm_left_zones as (

    select
        *,
        {{ _sky_zone_cells('zone', grid) }} as zone_cells

    from sky_xm_left

),

sky_xm_left_cell_ranges as (

    select
        *,
        {{ _sky_cell('ra_normalised - ra_half_width', 'zone_cells') }} as first_cell,
        {{ _sky_cell('ra_normalised + ra_half_width', 'zone_cells') }} as last_cell

    from sky_xm_left_zones

),

sky_xm_left_probes as (

    select
        left_key,
        left_ra,
        left_dec,
        zone,
        zone_cells,
        -- a window as wide as the zone covers every cell once
        unnest(
            case
                when last_cell - first_cell + 1 >= zone_cells then range(0, zone_cells)
                else range(first_cell, last_cell + 1)
            end
        ) as cell

    from sky_xm_left_cell_ranges

),

sky_xm_left_keys as (

    select
        left_key,
        left_ra,
        left_dec,
        -- cells before 0 or past the last one wrap around RA 0/360
        zone * {{ grid.max_cells }} + ((cell % zone_cells) + zone_cells) % zone_cells as cell_key

    from sky_xm_left_probes

),

sky_xm_right as (

    select
        {{ right_key }} as right_key,
        {%- for column in right_columns %}
        {{ column }},
        {%- endfor %}
        {{ right_ra }} as right_ra,
        {{ right_dec }} as right_dec,
        {{ _sky_zone(right_dec, grid) }} as zone

    from {{ right }}

),

sky_xm_right_keys as (

    select
        *,
        zone * {{ grid.max_cells }} + (
            {{ _sky_cell(_sky_normalised_ra('right_ra'), _sky_zone_cells('zone', grid)) }}
        ) % {{ _sky_zone_cells('zone', grid) }} as cell_key

    from sky_xm_right

),

sky_xm_pairs as (

    select
        sky_xm_left_keys.left_key as {{ left_key }},
        sky_xm_right_keys.right_key as {{ right_key }},
        {%- for column in right_columns %}
        sky_xm_right_keys.{{ column }},
        {%- endfor %}
        main.ang_sep_arcsec(
            sky_xm_left_keys.left_ra,
            sky_xm_left_keys.left_dec,
            sky_xm_right_keys.right_ra,
            sky_xm_right_keys.right_dec
        ) as separation_arcsec

    from sky_xm_left_keys
    inner join sky_xm_right_keys
        on sky_xm_left_keys.cell_key = sky_xm_right_keys.cell_key

)

select * from sky_xm_pairs
where separation_arcsec <= {{ radius_arcsec }}
{%- endmacro %}


{#- The grid: zone height (degrees, at least the radius), number of zones, and
    the key stride (more than the most cells any zone has). -#}
{% macro _sky_grid(radius_arcsec, cell_arcsec) -%}
    {%- set zone_height = [cell_arcsec or 4 * radius_arcsec, radius_arcsec] | max / 3600.0 -%}
    {%- set n_zones = (180.0 / zone_height) | round(0, 'ceil') | int -%}
    {%- set max_cells = (360.0 / zone_height) | int + 1 -%}
    {{- return({
        'zone_height': _sky_double(zone_height),
        'n_zones': n_zones,
        'max_cells': max_cells
    }) -}}
{%- endmacro %}


{#- A float as a DuckDB DOUBLE literal. A plain decimal literal such as 0.5 is a
    DECIMAL in DuckDB, and integer-times-DECIMAL arithmetic is many times slower
    than floating point. -#}
{% macro _sky_double(value) -%}
    {{- '%.17e' | format(value) -}}
{%- endmacro %}


{#- Zone of a declination, clamped to the grid (dec = +90 joins the last zone). -#}
{% macro _sky_zone(dec, grid) -%}
    least({{ grid.n_zones - 1 }}, greatest(0, floor(
        ({{ dec }} + 90e0) / {{ grid.zone_height }}
    )))::bigint
{%- endmacro %}


{#- RA cells in a zone: as many as fit with each at least one zone height wide
    at the zone's edge nearest the pole; at least one. Both sides of the join
    must evaluate this same expression of the integer zone. -#}
{% macro _sky_zone_cells(zone, grid) -%}
    greatest(1, floor(360e0 * cos(radians(least(90e0, greatest(
        abs({{ zone }} * {{ grid.zone_height }} - 90e0),
        abs(({{ zone }} + 1) * {{ grid.zone_height }} - 90e0)
    )))) / {{ grid.zone_height }}))::bigint
{%- endmacro %}


{#- Cell index of an RA (degrees, may lie outside [0, 360) by a window's
    half-width) in a zone of `zone_cells` cells, before wrapping. -#}
{% macro _sky_cell(ra, zone_cells) -%}
    floor(({{ ra }}) * {{ zone_cells }} / 360e0)::bigint
{%- endmacro %}


{#- RA folded into [0, 360]. -#}
{% macro _sky_normalised_ra(ra) -%}
    ({{ ra }} - 360e0 * floor({{ ra }} / 360e0))
{%- endmacro %}

