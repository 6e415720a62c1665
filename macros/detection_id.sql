{# The detection key (name, obsid, region_id) as one readable string,
   e.g. '2CXO J001954.3+155741|1595|57'; region_id may be absent (null). #}
{% macro detection_id(name, obsid, region_id) -%}
    concat_ws('|', {{ name }}, {{ obsid }}::varchar, coalesce({{ region_id }}::varchar, ''))
{%- endmacro %}
