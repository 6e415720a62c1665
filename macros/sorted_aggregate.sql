{#
    An aggregate of a group's non-null values taken in ascending order of value: the same
    bits whatever order DuckDB's parallel threads feed the rows in (a floating-point sum
    depends on its order in the last bits). An ordered aggregate (avg(x order by id))
    gives that too, but buffers and sorts every group on another column: 5-7x slower at
    catalogue size. aggregate is any of list_aggregate's (avg, sum, stddev_pop, ...); no
    values give null, as the plain aggregate does.
#}
{% macro sorted_aggregate(aggregate, expression) -%}
    list_aggregate(
        list_sort(list({{ expression }}) filter (where ({{ expression }}) is not null)),
        '{{ aggregate }}'
    )
{%- endmacro %}
