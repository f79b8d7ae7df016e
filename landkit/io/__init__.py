"""Reading and writing at the edges: vector layers and tables (:mod:`~landkit.io.read`), the planner's
columns (:mod:`~landkit.io.columns`), database URLs (:mod:`~landkit.core.db_url`) and PostGIS
(:mod:`landkit.io.postgis`), atomic file writes (:mod:`~landkit.io.write`), and the run folder and
store a run is written into (:mod:`~landkit.io.run_folder`, :mod:`~landkit.io.runs`).
"""
