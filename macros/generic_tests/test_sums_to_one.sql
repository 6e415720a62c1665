{#
    Fails for every group whose values do not sum to 1 within the tolerance,
    e.g. a detection's membership probabilities over a mixture's components.
#}
{% test sums_to_one(model, column_name, group_by, tolerance=1e-6) %}
select {{ group_by | join(', ') }}, sum({{ column_name }}) as total
from {{ model }}
group by {{ group_by | join(', ') }}
having abs(sum({{ column_name }}) - 1) > {{ tolerance }}
{% endtest %}
