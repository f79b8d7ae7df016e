"""PostGIS in and out: inputs read from a PostgreSQL database, a run's layers written into a schema.

:mod:`~landkit.io.postgis.connect` (URLs, identifiers, connections and their errors, secrets never
printed), :mod:`~landkit.io.postgis.read` (tables and queries to GeoDataFrames) and
:mod:`~landkit.io.postgis.write` (a run's layers into a schema, in one transaction).
"""
