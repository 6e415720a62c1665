{#-
    One row per run and cluster: its size and share of the run, its most common SIMBAD
    family, and a short description generated from cluster_profiles by the rules of var
    cluster_descriptions: a word holds when every one of its conditions on the cluster's
    median of a descriptor holds; per aspect the first configured word that holds is
    taken; the words are joined in the order their aspects first appear in the var.
-#}
{%- set config = var('cluster_descriptions') %}
{%- set comparisons = {'median_below': '<', 'median_above': '>'} %}
{%- set sample_figures = [
    'sample_p10', 'sample_p25', 'sample_median', 'sample_p75', 'sample_p90'
] %}
{%- set descriptors = [] %}
{%- for features in var('feature_sets').values() %}
    {%- for feature in features %}
        {%- do descriptors.append(feature.name) %}
    {%- endfor %}
{%- endfor %}
{%- for position in profile_positions() %}
    {%- do descriptors.append(position.name) %}
{%- endfor %}
{%- set aspects = [] %}
{%- set conditions = [] %}
{%- for rule in config.words %}
    {%- set word_index = loop.index0 %}
    {%- if rule.aspect not in aspects %}
        {%- do aspects.append(rule.aspect) %}
    {%- endif %}
    {%- for descriptor, bounds in rule.when.items() %}
        {%- if descriptor not in descriptors %}
            {{ exceptions.raise_compiler_error(
                "var cluster_descriptions, word '" ~ rule.word ~ "': '" ~ descriptor
                ~ "' is neither a feature of var feature_sets nor one of "
                ~ profile_positions() | map(attribute='name') | list
            ) }}
        {%- endif %}
        {%- for bound, threshold in bounds.items() %}
            {%- if bound not in comparisons %}
                {{ exceptions.raise_compiler_error(
                    "var cluster_descriptions, word '" ~ rule.word ~ "': '" ~ bound
                    ~ "' is neither median_below nor median_above"
                ) }}
            {%- endif %}
            {%- if threshold is not number and threshold not in sample_figures %}
                {{ exceptions.raise_compiler_error(
                    "var cluster_descriptions, word '" ~ rule.word ~ "': threshold '"
                    ~ threshold ~ "' is neither a number nor one of " ~ sample_figures
                ) }}
            {%- endif %}
            {%- do conditions.append({
                'word_index': word_index,
                'aspect_index': aspects.index(rule.aspect),
                'word': rule.word,
                'descriptor': descriptor,
                'comparison': comparisons[bound],
                'threshold_figure': 'null' if threshold is number else "'" ~ threshold ~ "'",
                'threshold_value': threshold if threshold is number else 'null',
            }) %}
        {%- endfor %}
    {%- endfor %}
{%- endfor %}

with

cluster_sizes as (

    select * from {{ ref('int_gmm_cluster_sizes') }}

),

profiles as (

    select * from {{ ref('cluster_profiles') }}

),

distribution as (

    select * from {{ ref('type_cluster_distribution') }}

),

description_conditions as (

    -- one row per condition of every configured word
    {%- for condition in conditions %}

        select
            {{ condition.word_index }} as word_index,
            {{ condition.aspect_index }} as aspect_index,
            '{{ condition.word | replace("'", "''") }}' as word,
            '{{ condition.descriptor }}' as descriptor,
            '{{ condition.comparison }}' as comparison,
            {{ condition.threshold_figure }}::varchar as threshold_figure,
            {{ condition.threshold_value }}::double as threshold_value
        {%- if not loop.last %}

            union all
        {%- endif %}
    {%- endfor %}

),

condition_inputs as (

    select
        cluster_sizes.run_id,
        cluster_sizes.cluster,
        description_conditions.word_index,
        description_conditions.aspect_index,
        description_conditions.word,
        description_conditions.descriptor,
        description_conditions.comparison,
        profiles.descriptor is not null as is_profiled,
        profiles.median,
        coalesce(
            description_conditions.threshold_value,
            case description_conditions.threshold_figure
                when 'sample_p10' then profiles.sample_p10
                when 'sample_p25' then profiles.sample_p25
                when 'sample_median' then profiles.sample_median
                when 'sample_p75' then profiles.sample_p75
                when 'sample_p90' then profiles.sample_p90
            end
        ) as threshold
    from cluster_sizes
    cross join description_conditions
    left join profiles
        on
            cluster_sizes.run_id = profiles.run_id
            and cluster_sizes.cluster = profiles.cluster
            and description_conditions.descriptor = profiles.descriptor

),

condition_results as (

    select
        run_id,
        cluster,
        word_index,
        aspect_index,
        word,
        case
            -- a run whose feature set lacks the descriptor, or a null median (no values),
            -- satisfies no condition (a misspelt descriptor stops the build above)
            when not is_profiled then false
            else coalesce(
                case comparison
                    when '<' then median < threshold
                    when '>' then median > threshold
                end,
                false
            )
        end as holds
    from condition_inputs

),

words_that_hold as (

    select
        run_id,
        cluster,
        aspect_index,
        word_index,
        word
    from condition_results
    group by run_id, cluster, aspect_index, word_index, word
    having bool_and(holds)

),

aspect_words as (

    -- words of one aspect exclude each other: the first configured one is taken
    select
        run_id,
        cluster,
        aspect_index,
        arg_min(word, word_index) as word
    from words_that_hold
    group by run_id, cluster, aspect_index

),

cluster_words as (

    select
        run_id,
        cluster,
        list(word order by aspect_index) as description_words
    from aspect_words
    group by run_id, cluster

),

dominant_families as (

    select
        run_id,
        cluster,
        object_type as dominant_family,
        fraction_of_cluster as dominant_family_fraction
    from distribution
    where type_level = 'family' and object_type <> '{{ var("unmatched_object_type") }}'
    qualify row_number() over (
        partition by run_id, cluster order by n_detections desc, object_type asc
    ) = 1

),

matched_fractions as (

    select
        run_id,
        cluster,
        coalesce(
            sum(n_detections) filter (
                where object_type <> '{{ var("unmatched_object_type") }}'
            ),
            0
        )
        / any_value(n_cluster_detections) as matched_fraction
    from distribution
    where type_level = 'family'
    group by run_id, cluster

),

final as (

    select
        cluster_sizes.run_id,
        cluster_sizes.cluster,
        cluster_sizes.n_detections,
        cluster_sizes.fraction_of_run,
        matched_fractions.matched_fraction,
        dominant_families.dominant_family,
        dominant_families.dominant_family_fraction,
        coalesce(
            array_to_string(cluster_words.description_words, ', '),
            '{{ config.no_words | replace("'", "''") }}'
        ) as description,
        coalesce(cluster_words.description_words, []) as description_words
    from cluster_sizes
    left join matched_fractions
        on
            cluster_sizes.run_id = matched_fractions.run_id
            and cluster_sizes.cluster = matched_fractions.cluster
    left join dominant_families
        on
            cluster_sizes.run_id = dominant_families.run_id
            and cluster_sizes.cluster = dominant_families.cluster
    left join cluster_words
        on
            cluster_sizes.run_id = cluster_words.run_id
            and cluster_sizes.cluster = cluster_words.cluster

)

select * from final
