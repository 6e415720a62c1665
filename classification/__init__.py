"""Classifying detections into SIMBAD classes: the follow-up study's cluster-wise
Mahalanobis method and a supervised classifier beside it, their training splits, and the
stored models that score new detections. The mathematics is free of dbt and DuckDB, so
pytest can check it directly; new_detections (`make classify`) applies the models a built
warehouse stores to detections from a file."""
