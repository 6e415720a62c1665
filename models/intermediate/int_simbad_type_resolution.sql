{#
    One row per distinct SIMBAD main_type label observed in the SIMBAD objects and the
    crossmatch pairs, resolved to a current SIMBAD object type.

    A label found in simbad_type_labels resolves exactly. A label that is not found may be
    a long label cut short by a crossmatch tool (`Candidate_LensSyste`): it resolves when
    every known label it is a strict prefix of stands for one and the same code. Strings
    shorter than min_prefix_length are never taken for truncations: the short codes and
    short labels (`Psr`, `Void`) would turn fragments (`Ps`, `Vo`) into types, while the
    truncation seen in real files (`Candidate_LensSyste`) keeps 19 characters.
    Anything else, and retired labels with no current type, keep a null code.
#}

{%- set min_prefix_length = 8 -%}

with

simbad_objects as (

    select * from {{ ref('stg_simbad__objects') }}

),

simbad_crossmatch as (

    select * from {{ ref('stg_simbad__crossmatch') }}

),

type_labels as (

    select * from {{ ref('simbad_type_labels') }}

),

object_types as (

    select * from {{ ref('simbad_object_types') }}

),

observed_labels as (

    select main_type from simbad_objects
    union
    select main_type from simbad_crossmatch

),

labels as (

    select main_type
    from observed_labels
    where main_type is not null and main_type <> ''

),

exact_matches as (

    select
        labels.main_type,
        type_labels.otype_code,
        type_labels.status as label_status

    from labels
    inner join type_labels
        on labels.main_type = type_labels.label

),

prefix_candidates as (

    select
        labels.main_type,
        type_labels.otype_code,
        type_labels.status

    from labels
    left join exact_matches
        on labels.main_type = exact_matches.main_type
    inner join type_labels
        on
            starts_with(type_labels.label, labels.main_type)
            and length(type_labels.label) > length(labels.main_type)
    where
        exact_matches.main_type is null
        and length(labels.main_type) >= {{ min_prefix_length }}

),

prefix_matches as (

    select
        main_type,
        count(otype_code) = count(*)
        and count(distinct otype_code) = 1 as is_unambiguous,
        min(otype_code) as otype_code,
        count(distinct status) = 1 as has_one_status,
        min(status) as label_status

    from prefix_candidates
    group by main_type

),

resolved as (

    select
        labels.main_type,
        case
            when exact_matches.main_type is not null
                then exact_matches.otype_code
            when prefix_matches.is_unambiguous
                then prefix_matches.otype_code
        end as otype_code,
        case
            when exact_matches.otype_code is not null then 'exact'
            when prefix_matches.is_unambiguous then 'truncated_prefix'
            else 'unknown'
        end as label_mapping,
        case
            when exact_matches.main_type is not null
                then exact_matches.label_status
            when
                prefix_matches.is_unambiguous and prefix_matches.has_one_status
                then prefix_matches.label_status
        end as label_status

    from labels
    left join exact_matches
        on labels.main_type = exact_matches.main_type
    left join prefix_matches
        on labels.main_type = prefix_matches.main_type

),

final as (

    select
        resolved.main_type,
        resolved.otype_code,
        object_types.label_current as otype_label,
        object_types.description as otype_description,
        object_types.is_candidate,
        resolved.label_mapping,
        resolved.label_status,
        coalesce(object_types.family, '{{ var("unresolved_object_type") }}') as otype_family

    from resolved
    left join object_types
        on resolved.otype_code = object_types.otype_code

)

select * from final
