{#
    ref() and source() without the database part. DuckDB names a file's
    catalog after the file, and a view keeps the names it was created with: a
    view over "warehouse"."raw"."csc_detections" would break once the file is
    renamed (the build writes a scratch file and moves it into place) or opened
    under another name. Schema-qualified names resolve in whatever catalog the
    file is opened as.
#}
{% macro ref() %}
    {% do return(builtins.ref(*varargs, **kwargs).include(database=false)) %}
{% endmacro %}

{% macro source() %}
    {% do return(builtins.source(*varargs, **kwargs).include(database=false)) %}
{% endmacro %}
