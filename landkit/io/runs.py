"""Where a run of `landkit assess` lives: an output folder (its GeoPackage) or a PostGIS schema.

``landkit assess -o OUT`` writes the run's layers to ``OUT/landkit.gpkg``; with ``--db URL
--schema NAME`` it writes the same layers as tables of schema ``NAME``. The commands that read a
run (`rings`, `scatter`, `map`, `export`, `history`, `compare`) take either:

- an output folder, or its ``landkit.gpkg``;
- ``postgresql://user@host:port/db?schema=NAME`` (schema ``landkit`` when not given), the
  password from the URL, the ``PG*`` variables, ``~/.pgpass`` or a service file.

:func:`open_run` finds the run; :func:`list_layers`, :func:`read_layer` and
:func:`replace_layers` read and update its layers the same way wherever it is.
"""

from __future__ import annotations

import shutil
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from landkit.core.db_url import is_db_url, redact
from landkit.core.errors import ConfigError, InputError
from landkit.core.i18n import _
from landkit.io.postgis.connect import DEFAULT_SCHEMA, parse_url
from landkit.io.run_folder import GPKG_NAME, STAGING_PREFIX, require_complete

#: The geometry column of a layer as read (pyogrio's name): a database run's ``geom`` is renamed to it.
GEOMETRY = "geometry"


@dataclass(frozen=True)
class RunStore:
    """A run's layers: the GeoPackage ``gpkg``, or the tables of ``schema`` in the database ``url``.

    ``url`` may hold a password: it is kept out of ``repr`` and shown only through :attr:`label`.
    """

    gpkg: Path | None = None
    url: str | None = field(default=None, repr=False)
    schema: str | None = None

    @property
    def is_database(self) -> bool:
        """Whether the run is in a database."""
        return self.url is not None

    @property
    def folder(self) -> Path | None:
        """The output folder (beside summary.json, manifest.json ...), None for a database run."""
        return None if self.gpkg is None else self.gpkg.parent

    @property
    def label(self) -> str:
        """The run for messages: the GeoPackage, or the redacted URL and the schema."""
        if self.gpkg is not None:
            return str(self.gpkg)
        return _("{database} (schema {schema})").format(database=redact(parse_url(self.url or "").conninfo),
                                                         schema=self.schema)


def open_run(target: str | Path, *, schema: str | None = None, must_exist: bool = True) -> RunStore:
    """Return where the run ``target`` names is: an output folder, its GeoPackage, or a database URL.

    Parameters
    ----------
    target : path or str
        An output folder of `landkit assess`, its ``landkit.gpkg``, or a ``postgresql://`` URL
        (``?schema=NAME`` names the schema).
    schema : str, optional
        The schema of a database run (``--schema``); default the URL's, else ``landkit``.
    must_exist : bool
        Raise if there is no run there (a database is only checked when read).

    Raises
    ------
    InputError
        If the folder has no ``landkit.gpkg`` or the file does not exist.
    ConfigError
        If ``schema`` is given for a file, or disagrees with the URL's.
    """
    if is_db_url(target):
        url = str(target).strip()
        named = parse_url(url).schema
        if schema is not None and named is not None and schema != named:
            raise ConfigError(_("{url} names schema `{named}` but --schema gives `{schema}`; give one").format(
                url=redact(url), named=named, schema=schema))
        return RunStore(url=url, schema=schema or named or DEFAULT_SCHEMA)
    if schema is not None:
        raise ConfigError(_("--schema names a schema of a database run; {target} is a file: give a postgresql:// URL")
                          .format(target=target))
    path = Path(target)
    gpkg = path / GPKG_NAME if path.is_dir() else path
    if must_exist and path.is_dir() and any(p.name.startswith(STAGING_PREFIX) for p in path.iterdir()):
        require_complete(path)  # an interrupted run, or one being written
    if must_exist and not gpkg.exists():
        where = (_("{path} has no {gpkg}").format(path=path, gpkg=GPKG_NAME) if path.is_dir()
                 else _("{path} does not exist").format(path=path))
        raise InputError(_("{where}; give an output folder of `landkit assess -o`, its {gpkg}, "
                           "or postgresql://.../db?schema=NAME (a run written with --db)").format(where=where, gpkg=GPKG_NAME))
    if must_exist and gpkg.name == GPKG_NAME:  # a run's GeoPackage: its run must be complete
        require_complete(gpkg.parent)
    return RunStore(gpkg=gpkg)


def list_layers(store: RunStore) -> list[str]:
    """Return the layers (tables) of a run, in the order they were written.

    Raises
    ------
    InputError
        If the GeoPackage cannot be read, or the schema does not exist.
    """
    if store.gpkg is not None:
        import pyogrio

        try:
            return [str(name) for name, _ in pyogrio.list_layers(store.gpkg)]
        except Exception as exc:  # GDAL's errors vary by what is wrong with the file
            raise InputError(_("{path}: cannot be read as a GeoPackage ({error}); give an output folder of `landkit assess`")
                             .format(path=store.gpkg, error=" ".join(str(exc).split()))) from None
    from landkit.io.postgis.read import list_tables_postgis

    tables = list_tables_postgis(store.url or "", store.schema or DEFAULT_SCHEMA)
    if tables is None:
        raise InputError(_("{run}: the schema does not exist; give the schema `landkit assess --db URL --schema NAME` "
                           "wrote, as ?schema=NAME in the URL").format(run=store.label))
    return tables


def layer_fields(store: RunStore, name: str) -> list[str]:
    """Return the attribute columns of layer ``name`` (not its geometry).

    Raises
    ------
    InputError
        If the run has no such layer.
    """
    if store.gpkg is not None:
        import pyogrio

        if name not in list_layers(store):
            raise InputError(_("{path} has no layer `{layer}`").format(path=store.gpkg, layer=name))
        return [str(f) for f in pyogrio.read_info(store.gpkg, layer=name)["fields"]]
    from landkit.io.postgis.read import table_columns_postgis

    fields = table_columns_postgis(store.url or "", store.schema or DEFAULT_SCHEMA, name)
    if fields is None:
        raise InputError(_("{run} has no table `{table}`").format(run=store.label, table=name))
    return fields


def read_layer(store: RunStore, name: str, *, columns: Collection[str] | None = None,
               geometry: bool = True) -> pd.DataFrame:
    """Read layer ``name`` of a run (a GeoDataFrame when it has geometry and ``geometry`` is true).

    Raises
    ------
    InputError
        If the run has no such layer.
    """
    if store.gpkg is not None:
        import pyogrio

        if name not in list_layers(store):
            raise InputError(_("{path} has no layer `{layer}`").format(path=store.gpkg, layer=name))
        wanted = None
        if columns is not None:
            present = set(layer_fields(store, name))
            wanted = [c for c in columns if c in present]
        return pyogrio.read_dataframe(store.gpkg, layer=name, columns=wanted, read_geometry=geometry, use_arrow=True)
    from landkit.io.postgis.read import read_table_postgis

    table = read_table_postgis(store.url or "", store.schema or DEFAULT_SCHEMA, name, columns=columns, geometry=geometry)
    if table is None:
        raise InputError(_("{run} has no table `{table}`").format(run=store.label, table=name))
    if isinstance(table, gpd.GeoDataFrame) and table.geometry.name != GEOMETRY and GEOMETRY not in table.columns:
        table = table.rename_geometry(GEOMETRY)  # `geom` in the database, `geometry` as read from the GeoPackage
    return table


def read_layers(store: RunStore, names: Collection[str]) -> dict[str, pd.DataFrame]:
    """Read the layers of ``names`` the run has (in the order of ``names``)."""
    present = set(list_layers(store))
    return {name: read_layer(store, name) for name in names if name in present}


def replace_layers(store: RunStore, layers: Mapping[str, pd.DataFrame]) -> list[str]:
    """Write ``layers`` into a run, replacing those of the same name and keeping the others.

    A GeoPackage is rewritten atomically (a copy, renamed over it); a database schema in one
    transaction. Layers are written as given (the caller reprojects to the run's CRS).

    Returns
    -------
    list of str
        The layers written.
    """
    if store.gpkg is not None:
        import pyogrio

        from landkit.io.write import atomic_path

        with atomic_path(store.gpkg) as tmp:
            shutil.copyfile(store.gpkg, tmp)
            for name, frame in layers.items():
                pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG", layer_options={"OVERWRITE": "YES"})
        return list(layers)
    from landkit.io.postgis.write import write_layers_postgis

    write_layers_postgis(store.url or "", store.schema or DEFAULT_SCHEMA, layers, overwrite=True, prune=False)
    return list(layers)
