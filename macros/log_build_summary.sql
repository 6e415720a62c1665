{#
    At the end of a run, say in the build log what the data left out: how many
    detections each feature set left out (a null or non-finite feature;
    feature_exclusions lists them), and every mixture fit skipped, with its reason
    (int_gmm_fits, gmm_runs.skipped_reason), and the detections that squeeze a scaled
    feature (audit.squeezed_features, tests/dbt/warn_scaled_features_squeezed_by_outliers.sql).
#}
{% macro log_build_summary() %}
    {%- if execute %}
        {%- set exclusions = adapter.get_relation(
            database=target.database, schema=target.schema, identifier='feature_exclusions'
        ) %}
        {%- if exclusions %}
            {%- set counts = run_query(
                "select feature_set, count(*) from " ~ exclusions.include(database=false)
                ~ " group by feature_set order by feature_set"
            ) %}
            {%- set excluded = {} %}
            {%- for feature_set, n_excluded in counts.rows %}
                {%- do excluded.update({feature_set: n_excluded}) %}
            {%- endfor %}
            {%- for feature_set in var('feature_sets') %}
                {{- log(
                    "feature set " ~ feature_set ~ ": " ~ excluded.get(feature_set, 0)
                    ~ " detections left out (a null or non-finite feature; see feature_exclusions)",
                    info=true
                ) }}
            {%- endfor %}
        {%- endif %}
        {%- set fits = adapter.get_relation(
            database=target.database, schema='intermediate', identifier='int_gmm_fits'
        ) %}
        {%- if fits %}
            {%- set skipped = run_query(
                "select fit_kind, fit_id, skipped_reason from " ~ fits.include(database=false)
                ~ " where skipped_reason is not null order by fit_kind, fit_id"
            ) %}
            {%- for fit_kind, fit_id, reason in skipped.rows %}
                {{- log("WARNING: mixture " ~ fit_kind ~ " " ~ fit_id ~ " skipped: " ~ reason, info=true) }}
            {%- endfor %}
        {%- endif %}
        {#- stored by the test during this run, after dbt's relation cache was filled -#}
        {%- set stored = run_query(
            "select count(*) from information_schema.tables"
            " where table_schema = 'audit' and table_name = 'squeezed_features'"
        ) %}
        {%- if stored.rows[0][0] %}
            {%- set rows = run_query(
                "select feature_set, feature, detection_id, value, p01, p99"
                " from audit.squeezed_features order by feature_set, feature, detection_id"
            ) %}
            {%- for feature_set, feature, detection_id, value, p01, p99 in rows.rows %}
                {{- log(
                    "WARNING: feature " ~ feature ~ " of " ~ feature_set ~ " is squeezed: its middle"
                    ~ " 98% lies in [" ~ p01 ~ ", " ~ p99 ~ "] of [0, 1] because detection "
                    ~ detection_id ~ " scales to " ~ value ~ " (see audit.squeezed_features)",
                    info=true
                ) }}
            {%- endfor %}
        {%- endif %}
    {%- endif %}
{% endmacro %}
