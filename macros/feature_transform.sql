{#
    The feature transforms of the original analysis, as SQL expressions, so that
    fitting the parameters (feature_transform_params) and applying them
    (detection_features, or new detections later) share one definition.
      log_minmax  ln(x + m/10), m the smallest non-zero value of the column, then min-max
      minmax      min-max to [0, 1]
      none        the value as it is
#}
{% macro unscaled_feature_value(transform, raw_value, log_offset) -%}
    case
        when {{ transform }} = 'log_minmax' then ln({{ raw_value }} + {{ log_offset }})
        else {{ raw_value }}
    end
{%- endmacro %}

{% macro scaled_feature_value(transform, raw_value, log_offset, scale_min, scale_max) -%}
    case
        when {{ transform }} = 'none' then {{ raw_value }}
        -- a constant column scales to 0, as scikit-learn's MinMaxScaler does
        when {{ scale_max }} = {{ scale_min }} then 0.0
        else
            ({{ unscaled_feature_value(transform, raw_value, log_offset) }} - {{ scale_min }})
            / ({{ scale_max }} - {{ scale_min }})
    end
{%- endmacro %}

{#
    One row per value of a per-detection feature list (`list_column` of `vectors`, in the
    configured order): feature_set, detection_id, the feature's name and transform (from
    `transform_params`, int_feature_transform_params), and the value. For tests that look
    at every feature without a query per feature.
#}
{% macro unnested_feature_values(vectors, list_column, transform_params) -%}
    select
        listed.feature_set,
        listed.detection_id,
        params.feature,
        params.transform,
        listed.value
    from (
        select
            feature_set,
            detection_id,
            unnest({{ list_column }}) as value,
            generate_subscripts({{ list_column }}, 1) - 1 as feature_index
        from {{ vectors }}
    ) as listed
    inner join {{ transform_params }} as params
        on
            listed.feature_set = params.feature_set
            and listed.feature_index = params.feature_index
{%- endmacro %}
