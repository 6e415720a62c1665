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

{#
    The subsets every validation figure is given for, as rows of `items` (held-out
    predictions) with a `subset` column: 'all' predictions, and the 'confident' ones, whose
    probability is at least var classification.confident_probability.
#}
{% macro classification_subsets(items) -%}
    select
        *,
        'all' as subset
    from {{ items }}
    where predicted_label is not null

    union all

    select
        *,
        'confident' as subset
    from {{ items }}
    where predicted_probability >= {{ var('classification').confident_probability }}
{%- endmacro %}
