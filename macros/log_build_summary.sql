{#
    At the end of a run, say in the build log what the data left out: how many
    detections each feature set left out (a null or non-finite feature;
    feature_exclusions lists them), and every mixture fit skipped, with its reason
    (int_gmm_fits, gmm_runs.skipped_reason).
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
    {%- endif %}
{% endmacro %}
