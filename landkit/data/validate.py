"""Checks on the inputs, and the repairs that are safe to make.

Each check is a function from a canonical layer to a list of :class:`~landkit.core.issues.Issue`;
:func:`landkit.data.dataset.load_dataset` runs them all. Geometry validity is checked on the layer
as read (GEOS's reason then quotes the planner's own coordinates); overlaps and areas in the
working CRS.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landkit.core.i18n import _
from landkit.core.issues import Issue, Severity
from landkit.data.parcels import unmatched_enterprises
from landkit.io.read import PARCEL_ID_SEPARATORS

POLYGONAL = ("Polygon", "MultiPolygon")
SHRINK_M = 0.001  # overlaps narrower than 1 mm are not overlaps

#: Enterprise figures that may legitimately be negative.
SIGNED_ENTERPRISE_COLUMNS = frozenset({"tax_wan", "value_added_wan"})


def _ids(frame: pd.DataFrame, id_col: str | None) -> np.ndarray:
    if id_col and id_col in frame:
        ids: np.ndarray = frame[id_col].astype(str).to_numpy()
        return ids
    return np.array([_("row {row}").format(row=i + 1) for i in range(len(frame))], dtype=object)


def check_geometry(layer: gpd.GeoDataFrame, *, kind: str, id_col: str | None,
                   types: Sequence[str] = POLYGONAL) -> list[Issue]:
    """Report missing, empty, invalid (with GEOS's reason) and wrongly typed geometries."""
    geoms = layer.geometry.values
    ids = _ids(layer, id_col)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    issues = [Issue("error", "empty_geometry", kind, ids[i], _("geometry is empty or missing"))
              for i in np.flatnonzero(missing)]
    present = ~missing
    geom_types = np.asarray(layer.geometry.geom_type, dtype=object)
    wrong = present & ~np.isin(geom_types, types)
    issues.extend(
        Issue("error", "geometry_type", kind, ids[i], _("geometry is a {type}, expected {expected}").format(
            type=geom_types[i], expected=_(" or ").join(types)))
        for i in np.flatnonzero(wrong)
    )
    invalid = present & ~shapely.is_valid(geoms)
    if invalid.any():
        reasons = shapely.is_valid_reason(geoms[invalid])
        issues.extend(
            Issue("error", "invalid_geometry", kind, ids[i], _("invalid geometry: {reason}").format(reason=reason))
            for i, reason in zip(np.flatnonzero(invalid), reasons, strict=True)
        )
    return issues


def check_ids(frame: pd.DataFrame, *, kind: str, id_col: str) -> list[Issue]:
    """Report empty and duplicate ids."""
    ids = frame[id_col]
    issues = [
        Issue("error", "missing_id", kind, _("row {row}").format(row=i + 1), _("{column} is empty").format(column=id_col))
        for i in np.flatnonzero(ids.isna().to_numpy())
    ]
    counts = ids.dropna().value_counts()
    for value, count in counts[counts > 1].sort_index().items():
        issues.append(Issue("error", "duplicate_id", kind, str(value), _("{column} appears {count} times").format(
            column=id_col, count=count)))
    return issues


def check_overlaps(parcels: gpd.GeoDataFrame, *, tolerance_m2: float, kind: str = "parcels") -> list[Issue]:
    """Report pairs of parcels whose overlap exceeds ``tolerance_m2`` (working CRS, metres).

    Candidate pairs come from the spatial index — never all pairs: each parcel shrunk by 1 mm
    is queried for ``intersects`` (fast, prepared), which finds every pair whose interiors
    overlap, containment included, but not parcels that merely touch; only those candidates'
    intersections are computed. (GEOS's ``overlaps`` predicate gives the same pairs, bar
    containment, three times slower.)
    """
    geoms = parcels.geometry.values
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) & shapely.is_valid(geoms)
    idx = np.flatnonzero(usable)
    if len(idx) < 2:
        return []
    sub = geoms[idx]
    tree = shapely.STRtree(sub)
    shrunk = shapely.buffer(sub, -SHRINK_M, quad_segs=1, join_style="mitre")
    left, right = tree.query(shrunk, predicate="intersects")
    left, right = np.minimum(left, right), np.maximum(left, right)
    keep = left < right
    left, right = idx[left[keep]], idx[right[keep]]
    if len(left) == 0:
        return []
    pair_index = np.unique(np.stack([left, right], axis=1), axis=0)
    left, right = pair_index[:, 0], pair_index[:, 1]
    area = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    ids = _ids(parcels, "parcel_id")
    return [
        Issue("error", "overlap", kind, ids[a], _("overlaps parcel {other} by {area:,.1f} m²").format(other=ids[b], area=ar))
        for a, b, ar in zip(left, right, area, strict=True)
        if ar > tolerance_m2
    ]


def check_parcel_values(parcels: gpd.GeoDataFrame, *, sliver_area_m2: float) -> list[Issue]:
    """Report negative areas and years out of order, and warn on implausible ratios and slivers."""
    ids = _ids(parcels, "parcel_id")
    issues: list[Issue] = []
    for column in ("floor_area_m2", "footprint_m2", "lease_start_year", "lease_end_year", "production_start_year"):
        if column in parcels:
            issues.extend(Issue("error", "negative", "parcels", ids[i], _("{column} is negative ({value})").format(
                column=column, value=parcels[column].iloc[i]))
                for i in np.flatnonzero((parcels[column] < 0).fillna(False).to_numpy()))
    if {"lease_start_year", "lease_end_year"} <= set(parcels.columns):
        bad = (parcels["lease_end_year"] < parcels["lease_start_year"]).fillna(False).to_numpy()
        issues.extend(Issue("error", "lease_years", "parcels", ids[i], _("lease ends before it starts"))
                      for i in np.flatnonzero(bad))
    if "area_m2" in parcels:
        # Areas of invalid geometries mean nothing (a bow-tie measures 0): those are reported as invalid.
        valid = pd.Series(shapely.is_valid(parcels.geometry.values), index=parcels.index)
        area = parcels["area_m2"].where(valid)
        issues.extend(Issue("warning", "sliver", "parcels", ids[i], _("area {area:.2f} m² is a sliver").format(
            area=area.iloc[i])) for i in np.flatnonzero((area < sliver_area_m2).fillna(False).to_numpy()))
        if "footprint_m2" in parcels:
            over = (parcels["footprint_m2"] > area * 1.001).fillna(False).to_numpy()
            issues.extend(
                Issue("warning", "coverage", "parcels", ids[i],
                      _("building footprint {footprint:,.0f} m² exceeds the parcel area {area:,.0f} m²").format(
                          footprint=parcels["footprint_m2"].iloc[i], area=area.iloc[i]))
                for i in np.flatnonzero(over)
            )
    if {"floor_area_m2", "footprint_m2"} <= set(parcels.columns):
        under = (parcels["floor_area_m2"] < parcels["footprint_m2"] * 0.999).fillna(False).to_numpy()
        issues.extend(
            Issue("warning", "floor_area", "parcels", ids[i], _("floor area is smaller than the building footprint"))
            for i in np.flatnonzero(under)
        )
    return issues


def check_enterprises(enterprises: pd.DataFrame, parcel_ids: pd.Index,
                      separators: Sequence[str] = PARCEL_ID_SEPARATORS) -> list[Issue]:
    """Report duplicate enterprise ids, negative figures and parcel ids that match no parcel.

    A few unmatched enterprises are warnings (their figures are left out); a table none of whose
    ids match is an error (the wrong table or the wrong id column).
    """
    issues = check_ids(enterprises, kind="enterprises", id_col="enterprise_id")
    ids = _ids(enterprises, "enterprise_id")
    numeric = [c for c in enterprises.columns if enterprises[c].dtype.kind in "fi"]
    for column in numeric:
        # Net tax can be negative (refunds, 留抵退税) and value added too (losses): kept, with a warning.
        severity: Severity = "warning" if column in SIGNED_ENTERPRISE_COLUMNS else "error"
        for i in np.flatnonzero((enterprises[column] < 0).fillna(False).to_numpy()):
            issues.append(Issue(severity, "negative", "enterprises", ids[i], _("{column} is negative ({value})").format(
                column=column, value=enterprises[column].iloc[i])))
    blank = enterprises["parcel_id"].isna() | (enterprises["parcel_id"].astype(str).str.strip() == "")
    if len(enterprises) and blank.all():  # the wrong column mapped, not a few forgotten cells
        issues.append(Issue("error", "no_match", "enterprises", "", _("no enterprise has a parcel id (the column is empty); "
                            "check that columns.enterprises.parcel_id names the parcel id column")))
        return issues
    for i in np.flatnonzero(blank.to_numpy()):
        issues.append(Issue("error", "empty", "enterprises", ids[i],
                            _("has no parcel id; fill its parcel id cell (地块编号) or drop the row")))
    if len(parcel_ids) == 0:
        return issues  # the parcel layer's own error says it is empty
    unmatched = unmatched_enterprises(enterprises, parcel_ids, separators)
    if len(unmatched) and unmatched["enterprise_id"].nunique() == len(enterprises):
        sample = ", ".join(map(str, unmatched["parcel_id"].head(3)))
        issues.append(
            Issue("error", "no_match", "enterprises", "", _("no enterprise matches any parcel (parcel ids such as {sample}); "
                  "check that columns.enterprises.parcel_id names the parcel id column").format(sample=sample))
        )
        return issues
    for row in unmatched.itertuples(index=False):
        issues.append(Issue("warning", "unmatched", "enterprises", str(row.enterprise_id),
                            _("parcel {parcel} is not in the parcel layer").format(parcel=row.parcel_id)))
    return issues


def fix_geometry(layer: gpd.GeoDataFrame, ids: pd.Series | None = None) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Repair what can be repaired: make invalid polygons valid, drop empty geometries.

    ``make_valid`` uses the "structure" method, which keeps polygons polygons (a bow-tie becomes
    a two-part multipolygon, collapsed parts are dropped).

    Parameters
    ----------
    layer : GeoDataFrame
        The layer as read (its own columns are kept).
    ids : Series, optional
        Parcel ids aligned to ``layer``, to name features in the change list (else row numbers).

    Returns
    -------
    (GeoDataFrame, list of str)
        The repaired layer and one line per change, naming the parcel.
    """
    out = layer.copy()
    names = ids.astype(str).to_numpy() if ids is not None else _ids(layer, None)
    geoms = out.geometry.values
    changes: list[str] = []
    invalid = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if invalid.any():
        fixed = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
        fixed = np.array([_polygonal(g) for g in fixed], dtype=object)
        geoms = geoms.copy()
        for i, reason in zip(np.flatnonzero(invalid), shapely.is_valid_reason(geoms[invalid]), strict=True):
            changes.append(_("{name}: made valid ({reason})").format(name=names[i], reason=reason))
        geoms[invalid] = fixed
        out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=out.crs))
    empty = shapely.is_missing(out.geometry.values) | shapely.is_empty(out.geometry.values)
    changes.extend(_("{name}: dropped (empty geometry)").format(name=names[i]) for i in np.flatnonzero(empty))
    return out.loc[~empty], changes


def _polygonal(geom: shapely.Geometry | None) -> shapely.Geometry | None:
    """Keep the polygonal part of a geometry (make_valid may return a collection)."""
    if geom is None or geom.geom_type in POLYGONAL:
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in POLYGONAL]
    return shapely.union_all(parts) if parts else shapely.Polygon()
