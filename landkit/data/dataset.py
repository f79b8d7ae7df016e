"""Loading a project's inputs into one checked, canonical dataset in the working CRS.

This is the edge every command passes through: read (:mod:`landkit.io.read`), check
(:mod:`landkit.data.validate`), reproject, measure and join (:mod:`landkit.data.parcels`), and
summarise the configured rasters per parcel (:func:`summarise_rasters`). With ``strict=True``
(every command but `validate`) any error stops the run with one line before work starts. After
this, nothing is read: :func:`landkit.pipeline.assess` works on the dataset alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from landkit.config.models import Project
from landkit.core.crs import check_working_crs, to_working
from landkit.core.i18n import _
from landkit.core.issues import Issue, raise_on_errors
from landkit.core.progress import Stage, no_stage
from landkit.data.overrides import check_objections, check_overrides
from landkit.data.parcels import add_areas, aggregate_enterprises, assign_blocks
from landkit.data.validate import check_enterprises, check_geometry, check_ids, check_overlaps, check_parcel_values
from landkit.io.columns import ColumnReport
from landkit.io.read import Table, read_input
from landkit.metrics.zonal import add_raster_columns

log = logging.getLogger(__name__)

OPTIONAL_LAYERS = ("blocks", "roads", "core_sites", "land_price", "price_zones", "facilities")


@dataclass
class Dataset:
    """A project's inputs, canonical and in the working CRS.

    ``parcels`` carries the parcel columns, ``area_m2``/``area_mu``/``area_ha``, ``block_id`` and
    ``inside_block`` (when blocks are given) and the enterprise sums (when enterprises are given).
    """

    parcels: gpd.GeoDataFrame
    input_crs: CRS
    enterprises: pd.DataFrame | None = None
    blocks: gpd.GeoDataFrame | None = None
    roads: gpd.GeoDataFrame | None = None
    core_sites: gpd.GeoDataFrame | None = None
    land_price: pd.DataFrame | None = None
    price_zones: gpd.GeoDataFrame | None = None
    facilities: gpd.GeoDataFrame | None = None
    #: Decisions on classes, paths and input figures, checked (:func:`landkit.data.overrides.check_overrides`).
    overrides: pd.DataFrame | None = None
    #: The 公示/异议 register, checked (:func:`landkit.data.overrides.check_objections`).
    objections: pd.DataFrame | None = None
    issues: list[Issue] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    #: Per input kind, which of the planner's columns were read as what (:mod:`landkit.io.columns`).
    columns: dict[str, ColumnReport] = field(default_factory=dict)
    #: The parcel columns the rasters' zonal statistics added (:func:`summarise_rasters`).
    raster_columns: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        """The issues of severity ``error``."""
        return [i for i in self.issues if i.severity == "error"]


def load_dataset(project: Project, *, strict: bool = True, rasters: bool = True, stage: Stage = no_stage) -> Dataset:
    """Read, check and prepare every input the project names.

    Parameters
    ----------
    project : Project
        The validated configuration; ``inputs.parcels`` is required.
    strict : bool
        Raise :class:`~landkit.core.errors.DataError` on the first error found (after all checks ran).
    rasters : bool
        Also join the zonal statistics of ``inputs.rasters`` (:func:`summarise_rasters`), when
        the inputs have no error.
    stage : callable, optional
        Wraps each step (``read``, ``validate``, ``zonal``): progress display or timing.

    Returns
    -------
    Dataset
    """
    working = project.crs.working
    with stage("read"):
        table = read_input("parcels", project)
    issues = list(table.issues)
    raw = table.frame
    if raw.empty:
        issues.append(Issue("error", "empty", "parcels", "", _("{name} holds no parcel; point inputs.parcels at the parcel layer")
                            .format(name=table.name)))
    with stage("validate"):
        issues += check_ids(raw, kind="parcels", id_col="parcel_id")
        issues += check_geometry(raw, kind="parcels", id_col="parcel_id")
        if len(raw):
            check_working_crs(tuple(raw.geometry.to_crs("EPSG:4326").total_bounds), working, name=table.name)
        parcels = add_areas(to_working(raw, working))
        issues += check_overlaps(parcels, tolerance_m2=project.validation.overlap_tolerance_m2)
        issues += check_parcel_values(parcels, sliver_area_m2=project.validation.sliver_area_m2)
    data = Dataset(parcels=parcels, input_crs=CRS(raw.crs), sources={"parcels": table.name})
    if table.columns is not None:
        data.columns["parcels"] = table.columns

    with stage("read"):
        _read_optional(project, data, issues)
        if project.inputs.enterprises is not None:
            _join_enterprises(data, issues, read_input("enterprises", project), project.values.parcel_id_separators)
        _read_decisions(project, data, issues)
    data.issues = issues
    log.info("loaded %d parcels; %d errors, %d warnings", len(data.parcels), len(data.errors), len(issues) - len(data.errors))
    if strict:
        raise_on_errors(issues)
    if rasters and not data.errors:
        data = summarise_rasters(data, project, stage=stage)
    return data


def summarise_rasters(data: Dataset, project: Project, *, stage: Stage = no_stage) -> Dataset:
    """Return the dataset with the zonal statistics of ``inputs.rasters`` joined to its parcels.

    Reads the rasters (:func:`landkit.metrics.zonal.add_raster_columns`); ``data`` is left as it
    was. Without configured rasters, ``data`` itself is returned.
    """
    if not project.inputs.rasters:
        return data
    with stage("zonal"):
        parcels = add_raster_columns(data.parcels, project)
    added = [c for c in parcels.columns if c not in data.parcels.columns]
    return replace(data, parcels=parcels, raster_columns=[*data.raster_columns, *added])


def _read_optional(project: Project, data: Dataset, issues: list[Issue]) -> None:
    """Read the blocks, roads, core sites and land prices the project names; place parcels in blocks."""
    working = project.crs.working
    for kind in OPTIONAL_LAYERS:
        if getattr(project.inputs, kind) is None:
            continue
        layer = read_input(kind, project)
        issues += layer.issues
        frame = layer.frame
        if isinstance(frame, gpd.GeoDataFrame):
            frame = to_working(frame, working)
        if kind == "blocks":
            issues += check_ids(frame, kind="blocks", id_col="block_id")
            issues += check_geometry(frame, kind="blocks", id_col="block_id")
        setattr(data, kind, frame)
        data.sources[kind] = layer.name
        if layer.columns is not None:
            data.columns[kind] = layer.columns

    if data.blocks is not None:
        data.parcels = assign_blocks(data.parcels, data.blocks)
    elif "block_id" in data.parcels:
        data.parcels["inside_block"] = data.parcels["block_id"].notna()


def _read_decisions(project: Project, data: Dataset, issues: list[Issue]) -> None:
    """Read and check the overrides and the objections register, when the project names them."""
    ids = data.parcels["parcel_id"]
    if project.inputs.overrides is not None:
        table = read_input("overrides", project)
        issues += table.issues
        if not any(i.severity == "error" for i in table.issues):
            data.overrides = check_overrides(table.frame, ids, project, source=table.name)
        data.sources["overrides"] = table.name
    if project.inputs.objections is not None:
        table = read_input("objections", project)
        issues += table.issues
        if not any(i.severity == "error" for i in table.issues):
            data.objections = check_objections(table.frame, ids, source=table.name)
        data.sources["objections"] = table.name


def _join_enterprises(data: Dataset, issues: list[Issue], table: Table, separators: list[str]) -> None:
    """Check the enterprise table and sum it per parcel."""
    issues += table.issues
    enterprises = table.frame
    issues += check_enterprises(enterprises, pd.Index(data.parcels["parcel_id"]), separators)
    data.enterprises = enterprises
    data.sources["enterprises"] = table.name
    if table.columns is not None:
        data.columns["enterprises"] = table.columns
    if not data.parcels["parcel_id"].duplicated().any():
        area = data.parcels.set_index("parcel_id")["area_m2"]
        sums = aggregate_enterprises(enterprises, area, separators)
        data.parcels = data.parcels.join(sums, on="parcel_id")
        data.parcels["enterprise_count"] = data.parcels["enterprise_count"].fillna(0).astype(int)
