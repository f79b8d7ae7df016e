"""连片整合: contiguous sites large enough for big projects, assembled from the land the list frees.

The 2025 priority of the campaign is to "裁出大衣料子": cut whole cloth out of the scattered
low-efficiency land, so that a big project finds a site of 100 or 500 亩 instead of twenty
plots. A parcel is a *candidate* when ``assembly.candidate_when`` holds (by default: land its
path takes back — reclaim, buy back, reduce, 收储 —, legally idle land and unsupplied land; listed
C parcels stay with their users) or, with ``assembly.include_willing``, when it is a C parcel whose owner is
willing to sell (the parcel column ``assembly.willing_column``). Candidates within
``assembly.gap_m`` of each other (edge to edge: a road's red line between two plots does not
break a site) are one site: the connected components of the "within the gap" graph
(:func:`landkit.metrics.graphs.components`, one STRtree query for every pair). A site is kept
when its area reaches the smallest of ``assembly.min_site_mu``.

Per site: its area (亩, 公顷), parcels, ownerships and enterprises; the cost of assembling it
(``acquisition_wan``: a parcel's path compensation where its path takes the land back, else its
land and building value, the price of a negotiated purchase); the tax it pays today; the cost
per 亩; its shape (Polsby–Popper compactness of the parcels' union with the gaps closed); its
ring and blocks; and its distance to the nearest road. Sites are ranked by size, then by cost
per 亩 (cheapest first).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landkit.analyses.vertical import compactness, road_distance
from landkit.config.formula import check_expression, evaluate_condition, with_rule_defaults
from landkit.config.models import Assembly
from landkit.core.crs import require_metric
from landkit.core.units import M2_PER_MU
from landkit.metrics.graphs import components

__all__ = ["AssemblyResult", "acquisition_cost", "assemble_sites", "assembly_candidates"]

#: Flags the candidate rule may read (absent: False).
FLAGS = ("low_efficiency", "legally_idle", "watch", "small", "isolated", "inside_block")
#: Labels and numbers the candidate rule may read (absent: not known).
LABELS = ("grade", "status", "ownership", "land_use", "block_id", "ring", "disposal", "town", "zone_type")
NUMBERS = ("score", "area_mu", "far", "tax_per_mu", "idle_years", "stopped_years", "land_freed_mu")
#: How many enterprise names a site lists before "…".
NAMES_SHOWN = 5


@dataclass
class AssemblyResult:
    """The parcels' site membership and the sites."""

    #: Aligned to the parcels: ``assembly_candidate``, ``assembly_willing``, ``acquisition_wan``,
    #: ``assembly_site`` (the site id, None off the sites).
    parcels: pd.DataFrame
    #: One row per site, largest first (see :func:`assemble_sites`).
    sites: gpd.GeoDataFrame


def _truthy(values: pd.Series) -> pd.Series:
    """Return a yes/no column as booleans: True, 1, "是", "yes", "true", "y" (any case) are yes."""
    if values.dtype == bool:
        return values
    text = values.astype("string").str.strip().str.lower()
    return text.isin(["true", "1", "1.0", "是", "yes", "y", "有", "同意"]).fillna(False).astype(bool)


def assembly_candidates(parcels: pd.DataFrame, spec: Assembly) -> pd.DataFrame:
    """Mark the parcels a site may be assembled from.

    Parameters
    ----------
    parcels : DataFrame
        Listed parcels with their paths (``land_freed_mu``, ``legally_idle``, ``status``, ``grade`` …).
    spec : Assembly
        ``project.assembly``.

    Returns
    -------
    DataFrame
        Aligned to ``parcels``: ``assembly_willing`` (a C parcel whose owner would sell, when
        ``include_willing`` and the column exists) and ``assembly_candidate``.

    Raises
    ------
    ConfigError
        If ``candidate_when`` is outside the rule language or names an unknown column.
    """
    frame = with_rule_defaults(pd.DataFrame(parcels), flags=FLAGS, labels=LABELS, numbers=NUMBERS)
    key = "assembly.candidate_when"
    check_expression(spec.candidate_when, key=key, columns=set(frame.columns))
    rule = evaluate_condition(frame, spec.candidate_when, key=key)
    out = pd.DataFrame(index=parcels.index)
    willing = pd.Series(False, index=parcels.index)
    if spec.include_willing and spec.willing_column in parcels:
        willing = _truthy(parcels[spec.willing_column]) & (frame["grade"] == "C")
    out["assembly_willing"] = willing.astype(bool)
    out["assembly_candidate"] = (rule | willing).astype(bool)
    return out


def acquisition_cost(parcels: pd.DataFrame) -> pd.Series:
    """Return what taking each parcel for a site costs (万元).

    Where the parcel's path takes its land back (``land_freed_mu`` > 0), the path's
    compensation (0 for idle land taken back without payment); unsupplied land (``status``
    ``unsupplied``: no user to compensate) 0; elsewhere the land and building value
    (``total_value_wan``), the price of a negotiated purchase. NaN where none is known.
    """
    index = parcels.index
    unsupplied = parcels["status"].eq("unsupplied") if "status" in parcels else pd.Series(False, index=index)
    freed = parcels["land_freed_mu"].astype(float).fillna(0.0) if "land_freed_mu" in parcels else pd.Series(0.0, index=index)
    paid = parcels["compensation_wan"].astype(float) if "compensation_wan" in parcels else pd.Series(np.nan, index=index)
    value = parcels["total_value_wan"].astype(float) if "total_value_wan" in parcels else pd.Series(np.nan, index=index)
    return paid.where(freed > 0, value).mask(unsupplied, 0.0).rename("acquisition_wan")


def _joined(groups: pd.Series, values: pd.Series, count: int, *, sep: str = "、", limit: int | None = None) -> np.ndarray:
    """Return per group ``0 … count-1`` its distinct non-empty texts (each may be a list joined by ``sep``), joined in first-seen order.

    With ``limit``, only the first ``limit`` are shown, then "…". One explode and one group-by, not a loop over groups.
    """
    out = np.full(count, "", dtype=object)
    known = values.notna().to_numpy()
    items = pd.Series(values.to_numpy()[known], index=groups.to_numpy()[known]).astype(str).str.split(sep).explode()
    items = items[items.str.strip().fillna("") != ""]
    frame = pd.DataFrame({"group": items.index.to_numpy(dtype=int), "item": items.to_numpy()}).drop_duplicates()
    if not len(frame):
        return out
    if limit is not None:
        order = frame.groupby("group").cumcount()
        more = frame.loc[order == limit, "group"].unique()
        frame = pd.concat([frame[order < limit], pd.DataFrame({"group": more, "item": "…"})])
    # a stable sort keeps each group's items in first-seen order
    joined = frame.sort_values("group", kind="stable").groupby("group", sort=True)["item"].agg(sep.join)
    out[joined.index.to_numpy(dtype=int)] = joined.to_numpy()
    return out


def _modal(groups: pd.Series, values: pd.Series, weights: pd.Series, count: int) -> np.ndarray:
    """Return per group ``0 … count-1`` the value carrying the largest total weight (area), None where all are missing.

    Ties go to the smallest value (as ``groupby(values).sum().idxmax()`` within each group would).
    """
    out = np.full(count, None, dtype=object)
    known = values.notna().to_numpy()
    if not known.any():
        return out
    totals = (pd.DataFrame({"group": groups.to_numpy()[known], "value": values.to_numpy()[known],
                            "weight": weights.to_numpy()[known]})
              .groupby(["group", "value"], sort=True)["weight"].sum().reset_index())
    best = totals.sort_values(["group", "weight"], ascending=[True, False], kind="stable").drop_duplicates("group")
    out[best["group"].to_numpy(dtype=int)] = best["value"].to_numpy()
    return out


def assemble_sites(parcels: gpd.GeoDataFrame, spec: Assembly, *, roads: gpd.GeoDataFrame | None = None) -> AssemblyResult:
    """Find the contiguous sites of at least ``min(spec.min_site_mu)`` 亩 among the candidates.

    Parameters
    ----------
    parcels : GeoDataFrame
        Listed parcels with their paths and values, in a projected CRS in metres.
    spec : Assembly
        ``project.assembly``.
    roads : GeoDataFrame, optional
        Road lines: a site's distance to the nearest one (NaN without roads).

    Returns
    -------
    AssemblyResult
        ``sites`` has ``site_id`` (S01 …, largest first), ``size_class_mu`` (the largest of ``min_site_mu``
        the site reaches), ``area_mu``, ``area_ha``, ``parcels``, ``parcel_ids``,
        ``collective_mu`` and ``platform_mu`` (集体 land and 国有载体 in it), ``enterprises``,
        ``enterprise_names``, ``willing_parcels``, ``acquisition_wan``, ``value_unknown``
        (parcels whose cost is not known, left out of the sum), ``cost_per_mu_wan``,
        ``tax_wan`` (paid today), ``land_freed_mu`` (by the paths), ``compactness``, ``ring``,
        ``block_ids``, ``road_distance_m``, ``rank_by_cost`` and the geometry: the parcels'
        union with gaps up to ``gap_m`` closed.

    Raises
    ------
    CRSError
        If the parcels are in degrees.
    ConfigError
        If ``candidate_when`` cannot be evaluated.
    """
    require_metric(parcels.crs, "连片整合", missing_ok=True)
    flags = assembly_candidates(parcels, spec)
    out = flags.assign(acquisition_wan=acquisition_cost(parcels), assembly_site=pd.Series(None, index=parcels.index, dtype=object))
    cand = np.flatnonzero(flags["assembly_candidate"].to_numpy())
    geoms = parcels.geometry.to_numpy()[cand]
    left, right = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=spec.gap_m)
    label = components(len(cand), left, right)
    area_mu = parcels["area_mu"].astype(float).to_numpy()[cand] if "area_mu" in parcels else shapely.area(geoms) / M2_PER_MU
    site_area = np.bincount(label, weights=area_mu, minlength=int(label.max()) + 1 if len(label) else 0)
    keep = site_area >= min(spec.min_site_mu)
    kept = np.flatnonzero(keep)
    kept = kept[np.lexsort((kept, -site_area[kept]))]  # largest first; ties: the earlier component
    rank = np.full(len(site_area), -1)
    rank[kept] = np.arange(len(kept))
    member = rank[label] if len(label) else np.array([], dtype=int)
    in_site = member >= 0
    if not in_site.any():
        return AssemblyResult(parcels=out, sites=_empty_sites(parcels.crs))
    ids = np.array([f"S{i + 1:02d}" for i in range(len(kept))], dtype=object)
    rows = parcels.index[cand[in_site]]
    out.loc[rows, "assembly_site"] = ids[member[in_site]]

    members = pd.DataFrame(parcels.loc[rows].drop(columns=parcels.geometry.name)).assign(
        site=member[in_site], area_mu=area_mu[in_site], acquisition_wan=out.loc[rows, "acquisition_wan"].to_numpy(),
        willing=out.loc[rows, "assembly_willing"].to_numpy())
    for column in ("parcel_id", "ownership", "enterprise_names", "ring", "block_id"):  # absent: not known
        if column not in members:
            members[column] = None
    for column in ("enterprise_count", "tax_wan", "land_freed_mu"):
        if column not in members:
            members[column] = np.nan
    groups = members.groupby("site", sort=True)
    sites = pd.DataFrame({
        "site_id": ids,
        "area_mu": groups["area_mu"].sum().to_numpy(),
        "parcels": groups.size().to_numpy(),
        "parcel_ids": members["parcel_id"].astype(str).groupby(members["site"], sort=True).agg(";".join).to_numpy(),
        "collective_mu": members["area_mu"].where(members["ownership"] == "collective", 0.0).groupby(members["site"]).sum().to_numpy(),
        "platform_mu": members["area_mu"].where(members["ownership"] == "platform", 0.0).groupby(members["site"]).sum().to_numpy(),
        "enterprises": groups["enterprise_count"].sum(min_count=0).to_numpy(),
        "enterprise_names": _joined(members["site"], members["enterprise_names"], len(kept), limit=NAMES_SHOWN),
        "willing_parcels": groups["willing"].sum().to_numpy(),
        "acquisition_wan": groups["acquisition_wan"].sum(min_count=1).to_numpy(),
        "value_unknown": members["acquisition_wan"].isna().groupby(members["site"], sort=True).sum().astype(int).to_numpy(),
        "tax_wan": groups["tax_wan"].sum(min_count=0).to_numpy(),
        "land_freed_mu": groups["land_freed_mu"].sum(min_count=0).to_numpy(),
        "ring": _modal(members["site"], members["ring"], members["area_mu"], len(kept)),
        "block_ids": _joined(members["site"], members["block_id"], len(kept), sep=";"),
    })
    sites.insert(1, "size_class_mu", [max(t for t in spec.min_site_mu if t <= a) for a in sites["area_mu"]])
    sites.insert(3, "area_ha", sites["area_mu"] * M2_PER_MU / 10_000)
    with np.errstate(divide="ignore", invalid="ignore"):
        sites["cost_per_mu_wan"] = sites["acquisition_wan"] / sites["area_mu"]
    # the site's outline: the parcels grown by half the gap, merged, shrunk back (closes the roads between them)
    half = spec.gap_m / 2
    grown = gpd.GeoSeries(shapely.buffer(parcels.geometry.to_numpy()[cand[in_site]], half, join_style="mitre"), crs=parcels.crs)
    merged = grown.groupby(member[in_site]).agg(lambda g: shapely.union_all(g.to_numpy()))
    outline = shapely.buffer(np.asarray(merged.sort_index().to_numpy(), dtype=object), -half, join_style="mitre")
    sites["compactness"] = compactness(outline)
    frame = gpd.GeoDataFrame(sites, geometry=outline, crs=parcels.crs)
    frame["road_distance_m"] = road_distance(frame, roads).to_numpy()
    frame["rank_by_cost"] = frame["cost_per_mu_wan"].rank(method="min", na_option="bottom").astype(int)
    return AssemblyResult(parcels=out, sites=frame)


def _empty_sites(crs: object) -> gpd.GeoDataFrame:
    """Return a sites table with no rows (nothing reaches the smallest size)."""
    columns = ["site_id", "size_class_mu", "area_mu", "area_ha", "parcels", "parcel_ids", "collective_mu", "platform_mu",
               "enterprises", "enterprise_names", "willing_parcels", "acquisition_wan", "value_unknown", "tax_wan",
               "land_freed_mu", "ring", "block_ids", "cost_per_mu_wan", "compactness", "road_distance_m", "rank_by_cost"]
    return gpd.GeoDataFrame(pd.DataFrame(columns=columns), geometry=gpd.GeoSeries([], crs=crs), crs=crs)
