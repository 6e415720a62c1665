{#-
    One row per (feature set, detection): every configured feature of the set before any
    transform, in the set's order (var feature_sets; the order of the mixtures' axes),
    and the features that are null or not finite, for which the detection leaves the
    set. Features are descriptors of stg_csc__detections or SQL expressions over them.
    One pass over the detections per feature set.
-#}
{%- set feature_sets = var('feature_sets') %}

with

detections as (

    select * from {{ ref('stg_csc__detections') }}

),

feature_names as (

    {%- for set_name, features in feature_sets.items() %}

        select
            '{{ set_name }}' as feature_set,
            [
                {%- for feature in features %}
                    '{{ feature.name }}'{{ "," if not loop.last }}
                {%- endfor %}
            ] as feature_names
        {%- if not loop.last %}

            union all
        {%- endif %}
    {%- endfor %}

),

feature_inputs as (

    {%- for set_name, features in feature_sets.items() %}

        select
            '{{ set_name }}' as feature_set,
            detection_id,
            [
                {%- for feature in features %}
                    ({{ feature.expression | default(feature.name) }})::double
                    {{- "," if not loop.last }}
                {%- endfor %}
            ] as raw_values
        from detections
        {%- if not loop.last %}

            union all
        {%- endif %}
    {%- endfor %}

),

final as (

    select
        feature_inputs.feature_set,
        feature_inputs.detection_id,
        feature_inputs.raw_values,
        -- a null, or an expression such as a ratio over a zero rate, leaves the
        -- detection out of the feature set
        list_where(
            feature_names.feature_names,
            list_transform(feature_inputs.raw_values, x -> x is null or not isfinite(x))
        ) as unusable_features
    from feature_inputs
    inner join feature_names on feature_inputs.feature_set = feature_names.feature_set

)

select * from final
