{#
    The classes of var classification as rows (class_name, class_index, class_group), in
    the var's order: the one definition the classification models join to.
#}
{% macro classification_classes() -%}
    {%- for class, group in var('classification').classes.items() %}
        select
            '{{ class }}' as class_name,
            {{ loop.index0 }} as class_index,
            '{{ group }}' as class_group
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
{%- endmacro %}
