{# Use a model's custom schema as given (staging, intermediate, reference)
   instead of dbt's default <target>_<custom>; marts stay in the target schema. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name else target.schema }}
{%- endmacro %}
