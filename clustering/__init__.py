"""Clustering kernels: Gaussian-mixture EM and scoring as chunked matrix products."""
