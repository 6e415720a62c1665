{#
    Lists the labels (column_name) that did not resolve to a code (code_column is null),
    so that a warn-level test names what the vocabulary is missing.
#}
{% test unresolved_labels(model, column_name, code_column) %}

select {{ column_name }} as unresolved_label
from {{ model }}
where {{ code_column }} is null

{% endtest %}
