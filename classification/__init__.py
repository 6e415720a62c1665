"""Classifying detections into SIMBAD classes: the follow-up study's cluster-wise
Mahalanobis method and a supervised classifier beside it, their training splits, and the
stored models that score new detections. Free of dbt and DuckDB, so pytest can check
the mathematics directly."""
