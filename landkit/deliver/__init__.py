"""Delivering a run: the one writer of run folders (:mod:`~landkit.deliver.writer`) and what it writes —
the GeoPackage with QGIS styles and value labels, the workbook and CSVs, the surfaces, the map,
the report, the manifest and the run history — and the exports a planner opens elsewhere.
"""
