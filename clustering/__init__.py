"""Gaussian-mixture clustering of the detections: configured runs, the one scheduler that
fits them all, stability across seeds, the k scan, alignment of component labels, and
how fitted mixtures are stored. Free of dbt and DuckDB (but for `relations`), so pytest
can check the mathematics directly."""
