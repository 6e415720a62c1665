{#
    The positions every cluster profile ends with, after the run's own features: the
    Galactic latitude, its absolute value, and the longitude's distance from the Galactic
    centre (l itself wraps at 0/360, so its percentiles would mean nothing).
#}
{% macro profile_positions() -%}
    {{ return([
        {'name': 'b', 'expression': 'b'},
        {'name': 'abs_b', 'expression': 'abs(b)'},
        {'name': 'abs_l', 'expression': 'least(l, 360 - l)'},
    ]) }}
{%- endmacro %}
