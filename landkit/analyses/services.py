"""Public services and the road system (plan item 12).

"布局方便、舒适、共享开放的高品质公共服务设施，优化形成功能完善、级配合理的道路交通系统" (settings
``project.services``, every default cited in the profile):

- **Access** (:func:`facility_minutes`, :func:`access_shares`): per parcel, the travel time by the
  road network to the nearest facility of each kind of the facilities layer, exactly as the rings
  measure the way to the core (:func:`landkit.metrics.network.travel_minutes`: a straight walk to
  the nearest road node at ``rings.access_speed_kmh``, the fastest route at the rings' speeds, the
  walk from the facility's node), one multi-source search per kind whatever the number of parcels.
  Then per block, per ring and for the park, the share of parcels (and of their area) within
  ``services.minutes[kind]``; a group whose share is below ``services.min_share`` falls short
  (:func:`short_blocks` lists the blocks). A parcel the roads do not connect to any facility of a
  kind is *unreachable*: counted as not served, and counted apart (``unreachable``), never dropped.
  A facility farther than ``rings.core_snap_max_m`` from every road node is left out and named.
- **The road hierarchy** (:func:`road_hierarchy`, :func:`road_grading`): per block, per ring and
  for the park (the union of the blocks), the km of road of each urban class inside the area
  (lines clipped to it, lengths in the working CRS), the density in km/km² against the guideline
  band (``services.road_density_km_per_km2``: GB 50220-95 表7.1.6-1), the four classes together
  against ``total_density_min_km_per_km2`` (GB/T 51328-2018), and the 级配: each class's length over
  the arterials', against the ratios the bands allow (low(class) / high(arterial) to
  high(class) / low(arterial); the bands' midpoints give the recommended ratio).

Without a facilities layer the access part is not assessed and the result says so
(``report["note"]``); it is no error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landkit.config.models import Project
from landkit.core.crs import require_metric
from landkit.core.i18n import _
from landkit.core.schema import FACILITY_KINDS
from landkit.metrics.overlay import LEAF_VERTICES, length_inside

if TYPE_CHECKING:
    from landkit.metrics.network import RoadGraph

log = logging.getLogger(__name__)

#: The urban road classes of the hierarchy, in order (CJJ 37-2012; 高速公路 is no urban road: ``other``).
ROAD_CLASSES = ("expressway", "arterial", "secondary", "local")
#: The four urban classes together.
TOTAL = "total"
#: The group of the park level, and of parcels or rings outside the blocks.
PARK, OUTSIDE = "park", "outside"
#: How many parcel or facility ids a report entry lists before it only counts.
REPORT_IDS = 20

ACCESS_COLUMNS = ["level", "group", "facility_kind", "minutes", "facilities", "parcels", "within", "unreachable",
                  "share_pct", "area_share_pct", "short"]
ROAD_COLUMNS = ["level", "group", "road_class", "area_km2", "km", "density_km_per_km2", "guideline_low", "guideline_high",
                "checked", "meets", "short", "share_pct", "ratio_to_arterial", "ratio_low", "ratio_high", "ratio_recommended",
                "ratio_ok"]
GRADING_COLUMNS = ["level", "group", "grading", "recommended", "grading_ok", "out_of_band"]


@dataclass
class ServicesResult:
    """Public services and the road hierarchy (plan item 12).

    Attributes
    ----------
    parcels : DataFrame
        Indexed like the parcels: ``minutes_to_<kind>`` for each configured kind present in the
        facilities layer (NaN: unreachable), and ``services_short`` (the kinds not reached in time,
        comma-separated; "" when all are). No columns without a facilities layer.
    access : DataFrame
        One row per level (``park``, ``ring``, ``block``), group and kind: :data:`ACCESS_COLUMNS`.
    short_blocks : DataFrame
        The blocks short of at least one kind (:func:`short_blocks`).
    roads : DataFrame or None
        The road hierarchy (:func:`road_hierarchy`), None without roads or blocks.
    grading : DataFrame or None
        The 级配 per group (:func:`road_grading`), None without roads or blocks.
    report : dict
        JSON-serialisable: ``assessed`` (bool), ``note`` (why not, when not), ``kinds`` (per kind:
        ``facilities``, ``unreachable``, ``unreachable_parcels``), ``kinds_absent`` (configured
        kinds with no facility), ``unknown_kinds``, ``facilities_off_network``, ``unmapped_road_classes``.
    """

    parcels: pd.DataFrame
    access: pd.DataFrame
    short_blocks: pd.DataFrame
    roads: pd.DataFrame | None = None
    grading: pd.DataFrame | None = None
    report: dict[str, Any] = field(default_factory=dict)


# --- access to public services ---------------------------------------------------------------


def service_graph(roads: gpd.GeoDataFrame, project: Project) -> RoadGraph:
    """Build the road graph with the rings' settings (speeds, snapping), for reuse by every step.

    Parameters
    ----------
    roads : GeoDataFrame
        The roads layer in the working CRS.
    project : Project
        ``rings.default_speed_kmh``, ``fallback_speed_kmh`` and ``snap_tolerance_m``.

    Returns
    -------
    RoadGraph
    """
    from landkit.metrics.network import build_road_graph

    rings = project.rings
    return build_road_graph(roads, default_speed_kmh=rings.default_speed_kmh, fallback_speed_kmh=rings.fallback_speed_kmh,
                            snap_tolerance_m=rings.snap_tolerance_m)


def _ids(frame: pd.DataFrame, column: str) -> pd.Series:
    """Names for messages: ``column`` where given, else the index label."""
    labels = pd.Series(frame.index.astype(str), index=frame.index, dtype=object)
    if column not in frame:
        return labels
    given = frame[column].astype(object)
    return given.where(given.notna(), labels).astype(str)


def facility_minutes(parcels: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, graph: RoadGraph,
                     project: Project) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Return each parcel's travel minutes to the nearest facility of every configured kind.

    Parameters
    ----------
    parcels : GeoDataFrame
        Parcels in the working CRS; measured from their representative points.
    facilities : GeoDataFrame
        Points (other geometries: their representative points) with ``facility_kind`` (codes of
        :data:`landkit.core.schema.FACILITY_KINDS`) and optionally ``facility_name``.
    graph : RoadGraph
        The road network (:func:`service_graph`, or the one the rings built).
    project : Project
        ``services.minutes`` (the kinds, in order) and ``rings`` (walking speed, the farthest a
        facility may lie from a road node).

    Returns
    -------
    minutes : DataFrame
        Indexed like ``parcels``: ``minutes_to_<kind>`` per configured kind with at least one
        facility on the network; NaN where no such facility can be reached.
    report : dict
        ``kinds`` (per kind: ``facilities``, ``unreachable``, ``unreachable_parcels``),
        ``kinds_absent``, ``unknown_kinds`` and ``facilities_off_network`` (names and metres).
    """
    from landkit.metrics.network import nearest_nodes, travel_minutes

    require_metric(parcels.crs, _("public services"), missing_ok=True)
    rings, spec = project.rings, project.services
    sites = facilities if facilities.crs is None or parcels.crs is None else facilities.to_crs(parcels.crs)
    geoms = sites.geometry.to_numpy()
    points_only = np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.point_on_surface(geoms))
    targets = gpd.GeoSeries(points_only, index=sites.index, crs=sites.crs)
    kinds = sites["facility_kind"].astype(object) if "facility_kind" in sites else pd.Series(None, index=sites.index, dtype=object)
    names = _ids(sites, "facility_name")
    report: dict[str, Any] = {"kinds": {}, "kinds_absent": [], "unknown_kinds": [], "facilities_off_network": []}
    unknown = kinds.notna() & ~kinds.isin(FACILITY_KINDS)
    if unknown.any():
        report["unknown_kinds"] = sorted(map(str, pd.unique(kinds[unknown])))
        log.warning("%s", _("facilities: kinds {kinds} are none of {known}; map them in values.facility_kind").format(
            kinds=", ".join(report["unknown_kinds"]), known=", ".join(FACILITY_KINDS)))
    _node, distance = nearest_nodes(graph, targets)
    off = ~(distance <= rings.core_snap_max_m)  # NaN (no geometry) is off too
    if off.any():
        report["facilities_off_network"] = [
            {"facility": names.iloc[i], "facility_kind": None if pd.isna(kinds.iloc[i]) else str(kinds.iloc[i]),
             "distance_m": None if np.isnan(distance[i]) else round(float(distance[i]), 1)}
            for i in np.flatnonzero(off)[:REPORT_IDS]]
        log.warning("%s", _("facilities: {n} lie farther than {m:g} m from every road node and are left out: {names}").format(
            n=int(off.sum()), m=rings.core_snap_max_m, names=", ".join(names[off].head(5))))
    points = gpd.GeoSeries(parcels.geometry.representative_point(), index=parcels.index, crs=parcels.crs)
    parcel_ids = _ids(parcels, "parcel_id")
    out = pd.DataFrame(index=parcels.index)
    unreachable, missed = np.zeros(len(parcels), dtype=bool), []
    for kind in spec.minutes:  # a loop over kinds: one search each
        mask = (kinds == kind).to_numpy() & ~off
        if not mask.any():
            report["kinds_absent"].append(str(kind))
            continue
        times = travel_minutes(graph, points, targets[mask], access_speed_kmh=rings.access_speed_kmh,
                               max_target_snap_m=rings.core_snap_max_m)
        minutes = times["travel_min"].astype(float)
        out[f"minutes_to_{kind}"] = minutes
        lost = minutes.isna()
        report["kinds"][str(kind)] = {"facilities": int(mask.sum()), "unreachable": int(lost.sum()),
                                      "unreachable_parcels": parcel_ids[lost].head(REPORT_IDS).tolist()}
        unreachable |= lost.to_numpy()
        if lost.any():
            missed.append(str(kind))
    if unreachable.any():  # one line for all kinds: the same parcels usually miss every kind
        log.warning("%s", _("{n} parcels cannot reach facilities of kinds {kinds} by road (counted as not served): {ids} …").format(
            n=int(unreachable.sum()), kinds=", ".join(missed), ids=", ".join(parcel_ids[unreachable].head(5))))
    if report["kinds_absent"]:
        log.info("%s", _("facilities: no facility of kinds {kinds}; their access is not assessed").format(
            kinds=", ".join(report["kinds_absent"])))
    return out, report


def _levels(parcels: pd.DataFrame) -> dict[str, pd.Series]:
    """Return the group of each parcel at each level: the park (parcels inside the blocks), its ring, its block."""
    inside = parcels["block_id"].notna() if "block_id" in parcels else pd.Series(True, index=parcels.index)
    levels = {PARK: pd.Series(PARK, index=parcels.index, dtype=object).where(inside)}
    if "ring" in parcels:
        levels["ring"] = parcels["ring"].astype(object).where(parcels["ring"].notna(), OUTSIDE)
    if "block_id" in parcels:
        levels["block"] = pd.Series(np.where(inside, parcels["block_id"].astype(str), OUTSIDE), index=parcels.index, dtype=object)
    return levels


def access_shares(parcels: pd.DataFrame, minutes: pd.DataFrame, project: Project,
                  facilities: dict[str, int] | None = None) -> pd.DataFrame:
    """Return the share of parcels (and of their area) within reach of each kind, per level and group.

    Parameters
    ----------
    parcels : DataFrame
        The parcels: ``block_id`` and ``ring`` when known (the levels), ``area_m2`` (else the
        geometry's area; else each parcel weighs 1).
    minutes : DataFrame
        ``minutes_to_<kind>`` aligned to ``parcels`` (:func:`facility_minutes`).
    project : Project
        ``services.minutes`` (the reach of each kind) and ``services.min_share``.
    facilities : dict, optional
        Facilities of each kind on the network, for the ``facilities`` column.

    Returns
    -------
    DataFrame
        :data:`ACCESS_COLUMNS`: one row per level (``park``: the parcels inside the blocks, or
        all without blocks; ``ring``; ``block``, with ``outside`` for parcels outside the blocks),
        group and kind. ``within`` counts parcels served in time, ``unreachable`` those no
        facility of the kind can be reached from (not served either); ``short`` is the share
        below ``min_share`` (never for ``outside``, which is no block or ring).
    """
    spec = project.services
    if "area_m2" in parcels:
        area = pd.to_numeric(parcels["area_m2"], errors="coerce").astype(float).fillna(0.0)
    elif isinstance(parcels, gpd.GeoDataFrame):
        area = parcels.geometry.area.astype(float)
    else:
        area = pd.Series(1.0, index=parcels.index)
    levels = _levels(parcels)
    rows = []
    for kind, limit in spec.minutes.items():  # loops over kinds and levels, group-bys within
        column = f"minutes_to_{kind}"
        if column not in minutes:
            continue
        reach = minutes[column].astype(float)
        within = (reach <= limit).to_numpy()
        frame = pd.DataFrame({"within": within, "unreachable": reach.isna().to_numpy(), "area": area.to_numpy(),
                              "area_in": np.where(within, area.to_numpy(), 0.0)}, index=parcels.index)
        for level, group in levels.items():
            stats = frame.groupby(group.to_numpy(), dropna=True, sort=True).agg(
                parcels=("within", "size"), within=("within", "sum"), unreachable=("unreachable", "sum"),
                area=("area", "sum"), area_in=("area_in", "sum"))
            stats = stats.rename_axis("group").reset_index()
            stats.insert(0, "level", level)
            stats["facility_kind"], stats["minutes"] = kind, float(limit)
            stats["facilities"] = (facilities or {}).get(str(kind), np.nan)
            rows.append(stats)
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ACCESS_COLUMNS})
    access = pd.concat(rows, ignore_index=True)
    access[["within", "unreachable", "parcels"]] = access[["within", "unreachable", "parcels"]].astype(int)
    access["share_pct"] = 100.0 * access["within"] / access["parcels"]
    access["area_share_pct"] = 100.0 * access["area_in"] / access["area"].where(access["area"] > 0)
    access["short"] = (access["within"] < spec.min_share * access["parcels"] - 1e-9) & (access["group"] != OUTSIDE)
    order = {PARK: 0, "ring": 1, "block": 2}
    access = access.sort_values(["level", "group"], key=lambda s: s.map(order) if s.name == "level" else s, kind="stable")
    return access[ACCESS_COLUMNS].reset_index(drop=True)


def short_blocks(access: pd.DataFrame) -> pd.DataFrame:
    """Return the blocks short of at least one kind of facility, those short of most first.

    Parameters
    ----------
    access : DataFrame
        :func:`access_shares`.

    Returns
    -------
    DataFrame
        ``block_id``, ``n_kinds`` (kinds short of), ``kinds`` (their codes, comma-separated,
        worst first), ``worst_kind`` and ``worst_share_pct``.
    """
    columns = ["block_id", "n_kinds", "kinds", "worst_kind", "worst_share_pct"]
    if not len(access):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    short = access[(access["level"] == "block") & access["short"].astype(bool)]
    if not len(short):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    short = short.sort_values(["group", "share_pct"], kind="stable")
    table = short.groupby("group", sort=False).agg(n_kinds=("facility_kind", "size"), kinds=("facility_kind", ", ".join),
                                                   worst_kind=("facility_kind", "first"), worst_share_pct=("share_pct", "first"))
    table = table.rename_axis("block_id").reset_index()
    return table.sort_values(["n_kinds", "worst_share_pct", "block_id"], ascending=[False, True, True],
                             kind="stable").reset_index(drop=True)[columns]


def _short_kinds(minutes: pd.DataFrame, project: Project) -> pd.Series:
    """Return the kinds each parcel does not reach in time, comma-separated ("" when it reaches all)."""
    text = pd.Series("", index=minutes.index, dtype=object)
    for kind, limit in project.services.minutes.items():  # a loop over kinds
        column = f"minutes_to_{kind}"
        if column in minutes:
            missed = ~(minutes[column] <= limit)
            text = text.where(~missed, text + np.where(text == "", "", ", ") + str(kind))
    return text


def service_access(parcels: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame | None, roads: gpd.GeoDataFrame | None,
                   project: Project, *, graph: RoadGraph | None = None) -> ServicesResult:
    """Return each parcel's minutes to every kind of facility, and the shares within reach.

    Parameters
    ----------
    parcels : GeoDataFrame
        Parcels in the working CRS (``parcel_id``, ``block_id``, ``ring``, ``area_m2`` when known).
    facilities : GeoDataFrame or None
        The facilities layer (``facility_kind``); None or empty: not assessed, and said so.
    roads : GeoDataFrame or None
        The roads layer; needed unless ``graph`` is given.
    project : Project
    graph : RoadGraph, optional
        A road graph already built with the rings' settings (:func:`service_graph`): not rebuilt.

    Returns
    -------
    ServicesResult
        With ``roads`` and ``grading`` None (:func:`assess_services` adds them).
    """
    empty = ServicesResult(parcels=pd.DataFrame(index=parcels.index), access=access_shares(parcels, pd.DataFrame(index=parcels.index), project),
                           short_blocks=short_blocks(pd.DataFrame()), report={"assessed": False})
    if facilities is None or not len(facilities):
        empty.report["note"] = _("No facilities layer: access to public services is not assessed "
                                 "(inputs.facilities names one: points with a facility_kind).")
        log.info("%s", empty.report["note"])
        return empty
    if graph is None:
        if roads is None or not len(roads):
            empty.report["note"] = _("No roads layer: access to public services by road is not assessed (inputs.roads).")
            log.info("%s", empty.report["note"])
            return empty
        graph = service_graph(roads, project)
    minutes, report = facility_minutes(parcels, facilities, graph, project)
    counts = {kind: entry["facilities"] for kind, entry in report["kinds"].items()}
    access = access_shares(parcels, minutes, project, facilities=counts)
    report["assessed"] = bool(len(minutes.columns))
    if not report["assessed"]:
        report["note"] = _("No facility of the kinds in services.minutes is on the road network: access is not assessed.")
    out = minutes.assign(services_short=_short_kinds(minutes, project)) if len(minutes.columns) else minutes
    return ServicesResult(parcels=out, access=access, short_blocks=short_blocks(access), report=report)


# --- the road hierarchy ----------------------------------------------------------------------


def road_levels(roads: pd.DataFrame, project: Project) -> tuple[pd.Series, list[str]]:
    """Return each road's class in the hierarchy (``expressway`` … ``local``, else ``other``) and the unmapped classes.

    A value listed in ``services.road_classes`` takes its class there; a hierarchy code
    (``arterial`` …) stands for itself; anything else, or no class, is ``other``.
    """
    if "road_class" not in roads:
        return pd.Series("other", index=roads.index, dtype=object), []
    raw = roads["road_class"].astype(object)
    text = raw.astype(str).str.strip()
    mapped = text.map(dict(project.services.road_classes))
    own = text.where(text.isin([*ROAD_CLASSES, "other"]))
    level = mapped.fillna(own).fillna("other").astype(object)
    unmapped = raw.notna() & mapped.isna() & own.isna()
    return level, sorted(map(str, pd.unique(text[unmapped])))


def _areas(blocks: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return the areas measured: the park (the blocks' union), each ring's blocks (when ``ring`` is known), each block."""
    geoms = blocks.geometry.to_numpy()
    rows = [{"level": PARK, "group": PARK, "ring": None, "geometry": shapely.union_all(geoms)}]
    if "ring" in blocks:
        ring = blocks["ring"].astype(object)
        rows += [{"level": "ring", "group": str(name), "ring": str(name), "geometry": shapely.union_all(geoms[(ring == name).to_numpy()])}
                 for name in pd.unique(ring[ring.notna() & (ring != OUTSIDE)])]  # a loop over rings
    ring_of = blocks["ring"].astype(object).where(blocks["ring"].notna(), None) if "ring" in blocks else pd.Series(None, index=blocks.index)
    block_rows = pd.DataFrame({"level": "block", "group": blocks["block_id"].astype(str).to_numpy(), "ring": ring_of.to_numpy(),
                               "geometry": geoms})
    return pd.concat([pd.DataFrame(rows), block_rows], ignore_index=True)


def _flags(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Return ``values`` as Python bools where ``known`` holds and None elsewhere (an object array)."""
    out = np.full(len(values), None, dtype=object)
    out[known] = np.asarray(values, dtype=bool)[known].astype(object)
    return out


def road_hierarchy(roads: gpd.GeoDataFrame, blocks: gpd.GeoDataFrame, project: Project) -> pd.DataFrame:
    """Return the road network's length, density and 级配 per block, per ring and for the park.

    Parameters
    ----------
    roads : GeoDataFrame
        Lines with ``road_class`` (:func:`road_levels`), in a metric CRS (reprojected to the blocks').
    blocks : GeoDataFrame
        The blocks (``block_id``; ``ring`` adds the ring level), in the working CRS.
    project : Project
        ``services.road_density_km_per_km2`` (class → guideline low, high), ``block_classes``,
        ``total_density_min_km_per_km2`` and ``total_density_min_by_ring``.

    Returns
    -------
    DataFrame
        :data:`ROAD_COLUMNS`: per group (the park, each ring, each block) one row per class of
        :data:`ROAD_CLASSES` and one for ``total`` (the four together). ``km`` of road inside
        the area, ``density_km_per_km2``; ``checked`` whether the class is judged there (the
        park and rings on every class with a guideline, blocks on ``block_classes``), ``meets``
        (density ≥ the guideline's low end) and ``short`` (its opposite), None where not judged;
        ``share_pct`` of the four classes' km; ``ratio_to_arterial`` (km over the arterials' km,
        the 级配), ``ratio_low``/``ratio_high`` (what the bands allow), ``ratio_recommended``
        (the bands' midpoints) and ``ratio_ok`` (None where the class is not judged or there are
        no arterials). ``attrs["unmapped_road_classes"]`` and
        ``attrs["other_km"]`` (km of ``other`` roads, e.g. 高速公路, per group) say what was left out.
    """
    spec = project.services
    require_metric(blocks.crs, _("road lengths"), missing_ok=True)
    require_metric(roads.crs, _("road lengths"), missing_ok=True)
    lines = roads if roads.crs is None or blocks.crs is None else roads.to_crs(blocks.crs)
    classes, unmapped = road_levels(lines, project)
    if unmapped:
        log.warning("%s", _("roads: classes {classes} are not in services.road_classes and count as no urban road").format(
            classes=", ".join(unmapped)))
    areas = _areas(blocks)
    area_geoms = areas["geometry"].to_numpy()
    line_geoms = lines.geometry.to_numpy()
    present = ~(shapely.is_missing(line_geoms) | shapely.is_empty(line_geoms))
    at_area, at_line = shapely.STRtree(line_geoms[present]).query(area_geoms, predicate="intersects")
    at_line = np.flatnonzero(present)[at_line]
    # A road inside its area counts whole; only those crossing the area's edge are clipped: by
    # the quadtree of length_inside where the area is large (the park, a ring), directly elsewhere.
    shapely.prepare(area_geoms)
    pair_lines, pair_areas = line_geoms[at_line], area_geoms[at_area]
    clipped = shapely.length(pair_lines)
    crossing = ~shapely.contains_properly(pair_areas, pair_lines)
    large = crossing & (shapely.get_num_coordinates(area_geoms) > 4 * LEAF_VERTICES)[at_area]
    small = crossing & ~large
    clipped[small] = shapely.length(shapely.intersection(pair_lines[small], pair_areas[small]))
    for area in np.unique(at_area[large]):  # a loop over the large areas (the park and its rings)
        mine = large & (at_area == area)
        clipped[mine] = length_inside(pair_lines[mine], area_geoms[area])
    clipped /= 1000.0
    km = (pd.DataFrame({"area": at_area, "road_class": classes.to_numpy()[at_line], "km": clipped})
          .groupby(["area", "road_class"])["km"].sum().unstack(fill_value=0.0)
          .reindex(index=range(len(areas)), columns=[*ROAD_CLASSES, "other"], fill_value=0.0).fillna(0.0))
    area_km2 = shapely.area(area_geoms) / 1e6
    total_km = km[list(ROAD_CLASSES)].sum(axis=1).to_numpy()
    arterial_km = km["arterial"].to_numpy()
    bands = {str(k): v for k, v in spec.road_density_km_per_km2.items()}
    a_low, a_high = bands.get("arterial", (np.nan, np.nan))
    total_min = areas["ring"].map(dict(spec.total_density_min_by_ring)).astype(float).fillna(spec.total_density_min_km_per_km2).to_numpy()
    by_block = areas["level"].to_numpy() == "block"
    with np.errstate(divide="ignore", invalid="ignore"):
        parts = []
        for cls in (*ROAD_CLASSES, TOTAL):  # a loop over classes, vectorised over groups
            length = total_km if cls == TOTAL else km[cls].to_numpy()
            density = np.where(area_km2 > 0, length / area_km2, np.nan)
            if cls == TOTAL:
                low, high = total_min, np.full(len(areas), np.nan)
                lo_ratio = hi_ratio = mid_ratio = np.nan
                ratio = np.full(len(areas), np.nan)
                share = np.where(total_km > 0, 100.0, np.nan)
                has_guideline = total_min > 0
            else:
                c_low, c_high = bands.get(cls, (np.nan, np.nan))
                low, high = np.full(len(areas), c_low), np.full(len(areas), c_high)
                lo_ratio = c_low / a_high if a_high else np.nan
                hi_ratio = c_high / a_low if a_low else np.inf
                mid_ratio = (c_low + c_high) / (a_low + a_high) if (a_low + a_high) else np.nan
                ratio = np.where(arterial_km > 0, length / arterial_km, np.nan)
                share = np.where(total_km > 0, 100.0 * length / total_km, np.nan)
                has_guideline = np.full(len(areas), np.isfinite(c_low))
            checked = has_guideline & (~by_block | (cls in spec.block_classes))
            ratio_known = np.isfinite(ratio) & np.isfinite(lo_ratio)
            parts.append(pd.DataFrame({
                "level": areas["level"].to_numpy(), "group": areas["group"].to_numpy(), "road_class": cls,
                "area_km2": area_km2, "km": length, "density_km_per_km2": density, "guideline_low": low,
                "guideline_high": high, "checked": checked, "meets": _flags(density >= low, checked),
                "short": _flags(~(density >= low), checked),
                "share_pct": share, "ratio_to_arterial": ratio, "ratio_low": lo_ratio, "ratio_high": hi_ratio,
                "ratio_recommended": mid_ratio,
                "ratio_ok": _flags((ratio >= lo_ratio - 1e-9) & (ratio <= hi_ratio + 1e-9), ratio_known & (checked | (cls == "arterial"))),
                "_order": np.arange(len(areas)),
            }))
    table = pd.concat(parts, ignore_index=True)
    rank = {c: i for i, c in enumerate((*ROAD_CLASSES, TOTAL))}
    table = table.assign(_class=table["road_class"].map(rank)).sort_values(["_order", "_class"], kind="stable")
    table = table[ROAD_COLUMNS].reset_index(drop=True)
    table.attrs["unmapped_road_classes"] = unmapped
    table.attrs["other_km"] = {str(g): round(float(v), 3) for g, v in zip(areas["group"], km["other"], strict=True) if v > 0}
    return table


def road_grading(table: pd.DataFrame) -> pd.DataFrame:
    """Return the 级配 (快速路 : 主干路 : 次干路 : 支路, arterials = 1) of each group against the recommended ratio.

    Parameters
    ----------
    table : DataFrame
        :func:`road_hierarchy`.

    Returns
    -------
    DataFrame
        :data:`GRADING_COLUMNS`, one row per group in the table's order: ``ratio`` and
        ``recommended`` as text ("0.40 : 1 : 1.30 : 3.50"; "–" where there are no arterials),
        ``grading_ok`` (every class's ratio within what the bands allow; None without
        arterials) and ``out_of_band`` (those that are not, comma-separated).
    """
    if not len(table):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in GRADING_COLUMNS})
    classes = table[table["road_class"].isin(ROAD_CLASSES)]
    groups = pd.MultiIndex.from_frame(classes[["level", "group"]].drop_duplicates())
    keyed = classes.set_index(["level", "group", "road_class"])
    wide = keyed["ratio_to_arterial"].astype(float).unstack().reindex(index=groups, columns=list(ROAD_CLASSES))
    ok = keyed["ratio_ok"].unstack().reindex(index=groups, columns=list(ROAD_CLASSES))
    recommended = classes.drop_duplicates("road_class").set_index("road_class")["ratio_recommended"].reindex(list(ROAD_CLASSES))

    def fmt(value: float) -> str:
        return "–" if pd.isna(value) else f"{value:.2f}"

    has_arterials = wide["arterial"].notna()
    ratio = wide.apply(lambda col: col.map(fmt)).assign(arterial=np.where(has_arterials, "1", "–")).apply(" : ".join, axis=1)
    out_of_band = pd.Series("", index=groups, dtype=object)
    for cls in ROAD_CLASSES:  # a loop over classes
        bad = ok[cls].map(lambda v: v is False).astype(bool)
        out_of_band = out_of_band.where(~bad, out_of_band + np.where(out_of_band == "", "", ", ") + cls)
    rec_text = " : ".join("1" if c == "arterial" else fmt(v) for c, v in recommended.items())
    grading = pd.DataFrame({"grading": ratio, "recommended": rec_text,
                            "grading_ok": pd.Series([bool(o == "") if a else None for a, o in zip(has_arterials, out_of_band, strict=True)],
                                                    index=groups, dtype=object),
                            "out_of_band": out_of_band}, index=groups).reset_index()
    return grading[GRADING_COLUMNS]


# --- the step --------------------------------------------------------------------------------


def assess_services(parcels: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame | None, roads: gpd.GeoDataFrame | None,
                    blocks: gpd.GeoDataFrame | None, project: Project, *, graph: RoadGraph | None = None) -> ServicesResult:
    """Assess plan item 12: access to public services by road, and the road hierarchy.

    Parameters
    ----------
    parcels : GeoDataFrame
        Parcels in the working CRS, after the rings (``ring``) when those ran.
    facilities, roads, blocks : GeoDataFrame or None
        The optional layers; what one lacks is not assessed, and ``report["note"]`` says so.
    project : Project
    graph : RoadGraph, optional
        A road graph already built with the rings' settings (:func:`service_graph`).

    Returns
    -------
    ServicesResult
    """
    result = service_access(parcels, facilities, roads, project, graph=graph)
    if roads is not None and len(roads) and blocks is not None and len(blocks):
        areas = blocks
        if {"block_id", "ring"} <= set(parcels.columns):  # the rings' designation, as the access table has it
            ring_of = parcels.groupby("block_id")["ring"].first()
            ring = blocks["block_id"].map(ring_of)
            areas = blocks.assign(ring=ring.fillna(blocks["ring"]) if "ring" in blocks else ring)
        result.roads = road_hierarchy(roads, areas, project)
        result.grading = road_grading(result.roads)
        result.report["unmapped_road_classes"] = result.roads.attrs["unmapped_road_classes"]
        result.report["other_road_km"] = result.roads.attrs["other_km"]
        park = result.grading[result.grading["level"] == PARK]
        if len(park):
            row = park.iloc[0]
            result.report["park_grading"] = {"grading": row["grading"], "recommended": row["recommended"],
                                             "grading_ok": row["grading_ok"], "out_of_band": row["out_of_band"]}
    return result
