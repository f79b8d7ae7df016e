"""Writing outputs safely: never over an existing file without ``overwrite``, never half a file.

Everything is written to a temporary name beside its target and renamed into place when complete
(:func:`atomic_path`), so a crash or Ctrl-C leaves the previous output, or none, never a torn one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from landkit.core.errors import OutputExistsError
from landkit.core.i18n import _


def check_writable(paths: Iterable[Path], *, overwrite: bool) -> None:
    """Refuse, before any work, to replace existing outputs unless ``overwrite``.

    Raises
    ------
    OutputExistsError
        Naming the first existing path.
    """
    if overwrite:
        return
    for path in paths:
        if Path(path).exists():
            raise OutputExistsError(_("{path} exists; pass --overwrite to replace it, or choose another output").format(
                path=path))


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.part{path.suffix}")  # keep the suffix: drivers check it
    if tmp.exists():
        tmp.unlink()
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


#: GeoPackage version written: 1.2, which the GDAL (3.6) and QGIS (3.22) of today's government
#: desktops read without a warning; GDAL's default, 1.4, makes GDAL 3.6 warn on every open.
GPKG_VERSION = "1.2"


def write_layers(path: Path, layers: Mapping[str, pd.DataFrame], *, version: str = GPKG_VERSION) -> Path:
    """Write layers (GeoDataFrames, or plain tables) into one GeoPackage of ``version``, atomically."""
    with atomic_path(path) as tmp:
        for name, frame in layers.items():
            options = {"dataset_options": {"VERSION": version}} if not tmp.exists() else {}
            if isinstance(frame, gpd.GeoDataFrame):
                pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG", use_arrow=True, **options)
            else:
                pyogrio.write_dataframe(pd.DataFrame(frame), tmp, layer=name, driver="GPKG", **options)
    return path


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` as indented UTF-8 JSON (Chinese left readable), atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=_jsonable) + "\n", encoding="utf-8")
    return path


def write_text(path: Path, text: str) -> Path:
    """Write UTF-8 text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if pd.isna(value):
        return None
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


#: Files that make up a shapefile (written together, renamed together).
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def write_vector(path: Path, frame: gpd.GeoDataFrame, *, layer: str | None = None, encoding: str = "UTF-8") -> Path:
    """Write one layer in the format its suffix names (.gpkg, .shp, .geojson), atomically.

    A shapefile is written into a temporary folder beside the target and its parts renamed into
    place; its ``.cpg`` always names ``encoding``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".shp":
        import tempfile

        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.stem}.") as tmpdir:
            tmp = Path(tmpdir) / path.name
            pyogrio.write_dataframe(frame, tmp, driver="ESRI Shapefile", encoding=encoding)
            tmp.with_suffix(".cpg").write_text(encoding.upper(), encoding="ascii")
            for part in SHAPEFILE_PARTS:
                if tmp.with_suffix(part).exists():
                    os.replace(tmp.with_suffix(part), path.with_suffix(part))
        return path
    driver = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON"}.get(suffix)
    if driver is None:
        from landkit.core.errors import LandkitError

        raise LandkitError(_("{path}: unknown output format `{suffix}`; use .gpkg, .shp or .geojson").format(
            path=path, suffix=suffix))
    options = {"dataset_options": {"VERSION": GPKG_VERSION}} if driver == "GPKG" else {}
    with atomic_path(path) as tmp:
        pyogrio.write_dataframe(frame, tmp, layer=layer, driver=driver, **options)
    return path


def vector_parts(path: Path) -> list[Path]:
    """Return the files a vector output occupies (all parts of a shapefile)."""
    path = Path(path)
    if path.suffix.lower() == ".shp":
        return [path.with_suffix(p) for p in SHAPEFILE_PARTS]
    return [path]
