"""Measures on geometries, each a function returning values aligned to its input: zonal statistics of
rasters (:mod:`~landkit.metrics.zonal`), surfaces (:mod:`~landkit.metrics.surfaces`), neighbours and
fragmentation (:mod:`~landkit.metrics.fragmentation`), road-network travel (:mod:`~landkit.metrics.network`),
connected components (:mod:`~landkit.metrics.graphs`).
"""
