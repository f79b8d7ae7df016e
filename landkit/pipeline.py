"""The campaign's deliverables in one call: two assessments, one list, one revitalisation.

:func:`assess` is pure: a loaded dataset (:func:`landkit.data.dataset.load_dataset`) and the
configuration in, an :class:`~landkit.result.AssessmentResult` out; no file read or written,
no pool started. :func:`landkit.deliver.writer.write_assessment` writes the result.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from landkit.analyses.adjustment import adjust_blocks, adjustment_graph
from landkit.analyses.assembly import assemble_sites
from landkit.analyses.chains import assess_chains, weight_linkage
from landkit.analyses.conversion import conversion_candidates, conversion_summary
from landkit.analyses.rings import assess_rings, ring_profiles
from landkit.analyses.robustness import COLUMNS as ROBUSTNESS_COLUMNS
from landkit.analyses.robustness import grade_robustness, robustness_summary
from landkit.analyses.scatter import assess_scatter, scatter_state, sporadic_plots
from landkit.analyses.services import assess_services
from landkit.analyses.vertical import vertical_screen, vertical_summary
from landkit.assess.blocks import assess_blocks, park_row
from landkit.assess.kpis import plan_kpis
from landkit.assess.land_status import land_status
from landkit.assess.performance import (
    GRADES,
    UNGRADED,
    assess_performance,
    assessment_year,
    industry_group,
    with_production_zeros,
)
from landkit.assess.valuation import assess_value
from landkit.config.formula import names_in
from landkit.config.models import Project
from landkit.core.i18n import _
from landkit.core.progress import Stage, no_stage
from landkit.core.schema import OWNERSHIPS
from landkit.data.dataset import Dataset
from landkit.data.overrides import apply_overrides, audit_table, objection_register, objection_summary
from landkit.disposal.paths import assign_disposal
from landkit.listing.inventory import list_low_efficiency
from landkit.result import AssessmentResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reuse:
    """An earlier assessment of the same data, whose stages a new assessment takes over where their settings are unchanged.

    Policy scenarios (:mod:`landkit.decide.scenarios`) change weights, cuts or rules and leave
    the geometry alone: the grade robustness (unless the assessment changed), the value (when
    its site factors read only the layer's columns), the rings' travel times, the 小而散
    analysis, the public services, the chains and the distances to roads are the earlier run's
    when their sections of the configuration are equal. The 小而散 merge proposals then keep the
    earlier classes (they are geometry first); the ring profiles, which count classes, are
    recomputed.
    """

    result: AssessmentResult
    project: Project
    #: Geometry-only intermediates the earlier run did not keep, computed once by the first assessment that needs them.
    cache: dict[Any, Any] = field(default_factory=dict, compare=False)

    def same(self, project: Project, *sections: str) -> bool:
        """Return whether every section of ``project`` named equals the earlier one."""
        return all(getattr(self.project, name) == getattr(project, name) for name in sections)

    def cached(self, key: Any, compute: Callable[[], Any]) -> Any:
        """Return what ``compute()`` gave for ``key`` the first time any assessment asked (geometry-only intermediates)."""
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]


def assess(data: Dataset, project: Project, *, stage: Stage = no_stage, reuse: Reuse | None = None) -> AssessmentResult:
    """Run the performance and value assessments, the inventory and the disposal paths.

    Parameters
    ----------
    data : Dataset
        Loaded, checked inputs (:func:`landkit.data.dataset.load_dataset`).
    project : Project
        The configuration.
    stage : callable, optional
        Wraps each step (``with stage("performance"): ...``): progress display or timing.
    reuse : Reuse, optional
        An earlier assessment of the same ``data``: its stages whose settings ``project`` does
        not change are taken over rather than run again (see :class:`Reuse`).
    """
    year = assessment_year(project)
    parcels = with_production_zeros(apply_overrides(data.parcels, data.overrides, stage="inputs"))  # decided figures first
    parcels = parcels.join(land_status(parcels, project.inventory.idle_land, year=year))
    parcels["sporadic"] = sporadic_plots(parcels)
    parcels["industry_group"] = industry_group(parcels, project.assessment)  # read by benchmarks and the FAR norm
    # the rasters' columns after the parcels' own and their status, as the layers have always shown them
    parcels = parcels[[c for c in parcels.columns if c not in data.raster_columns] + data.raster_columns]
    if data.blocks is not None and "block_name" in data.blocks:
        parcels = parcels.join(data.blocks.set_index("block_id")["block_name"], on="block_id")
    with stage("performance"):
        performance = assess_performance(parcels, project)
        parcels = parcels.join(performance)
        # how far each computed class depends on contested weights (before any decision)
        if reuse is not None and reuse.same(project, "assessment", "robustness", "inventory"):
            parcels = parcels.join(reuse.result.parcels[[c for c in ROBUSTNESS_COLUMNS if c in reuse.result.parcels]])
        else:
            parcels = parcels.join(grade_robustness(parcels, project))
        # decided classes and paths replace the computed ones (kept in grade_computed …): the list follows them
        parcels = apply_overrides(apply_overrides(parcels, data.overrides, stage="grade"), data.overrides, stage="disposal")
    with stage("value"):
        if reuse is not None and reuse.same(project, "valuation") and _value_reads_inputs_only(project, data):
            parcels = parcels.join(reuse.result.parcels[VALUE_COLUMNS])
        else:
            zone = reuse.result.parcels["price_zone"] if reuse is not None else None  # the parcels' and zones' geometry: the same
            parcels = parcels.join(assess_value(parcels, project.valuation, year=year, land_price=data.land_price,
                                                price_zones=data.price_zones, zone=zone))
    rings = None
    rings_reused = reuse is not None and reuse.result.rings is not None and reuse.same(project, "rings")
    if data.blocks is not None and project.rings.designated:
        with stage("rings"):
            if rings_reused and reuse is not None and reuse.result.rings is not None:  # the profiles count classes: again
                parcels = parcels.join(reuse.result.rings.parcels)
                rings = replace(reuse.result.rings, profiles=ring_profiles(parcels, project.rings))
            else:
                rings = assess_rings(parcels, data.blocks, project, roads=data.roads, core_sites=data.core_sites)
                parcels = parcels.join(rings.parcels)
    pairs = None  # the 小而散 neighbour pairs, which the block adjustment's graph may take
    with stage("scatter"):  # before the list: its rules may use `small`, `isolated`, `scattered`
        if reuse is not None and reuse.result.scatter is not None and reuse.same(project, "scatter", "crs"):
            scatter = reuse.result.scatter
        else:
            state = scatter_state(parcels, project)
            pairs = state[1]["pairs"]
            scatter = assess_scatter(parcels, project, blocks=data.blocks, state=state)
        parcels = parcels.join(scatter.parcels.drop(columns=["sporadic"]))
    with stage("inventory"):
        parcels = add_list_and_paths(parcels, project, year=year)
        blocks = park = None
        if data.blocks is not None:
            blocks = assess_blocks(parcels, data.blocks, project.block_assessment)
            park = park_row(parcels, data.blocks, project.block_assessment)
    with stage("assembly"):  # 连片整合 ("裁出大衣料子"): contiguous sites from the land the list frees
        assembly = assemble_sites(parcels, project.assembly, roads=data.roads)
        parcels = parcels.join(assembly.parcels)
    with stage("plan"):  # the plan's items 12–14 (and 5–8: the chains) and its targets
        parcels = parcels.join(conversion_candidates(parcels, project.conversion))
        distances = reuse.result.parcels["road_distance_m"] if reuse is not None and "road_distance_m" in reuse.result.parcels else None
        parcels = parcels.join(vertical_screen(parcels, project.vertical, roads=data.roads, road_distance_m=distances))
        kpis = plan_kpis(data.enterprises, project.kpis, facilities=data.facilities)
        services = None
        if data.roads is not None and len(data.roads):  # item 12: public services by road, the road hierarchy
            if reuse is not None and reuse.result.services is not None and rings_reused and reuse.same(project, "services"):
                services = reuse.result.services
            else:
                services = assess_services(parcels, data.facilities, data.roads, data.blocks, project,
                                           graph=rings.graph if rings is not None else None)
            parcels = parcels.join(services.parcels)
        chains = None
        if data.enterprises is not None and project.chains.chains:  # items 5–8 and 14: chains across the rings
            if reuse is not None and reuse.result.chains is not None and rings_reused and reuse.same(project, "chains"):
                chains = reuse.result.chains  # and the linkage it weighted, reused with the rings
            else:
                chains = assess_chains(data.enterprises, parcels, project)
                if rings is not None and len(rings.linkage):
                    rings.linkage = weight_linkage(rings.linkage, chains.firms, project)
        adjustment = None
        if data.blocks is not None and len(data.blocks):  # 园区地块动态调整 (item 14), from the classes just listed
            if reuse is not None and reuse.same(project, "scatter", "crs"):  # the same analysed land
                graph = reuse.cached(("adjustment_graph", project.block_adjustment.core_distance_m),
                                     lambda: adjustment_graph(parcels, project))
            else:
                graph = adjustment_graph(parcels, project, pairs=pairs)
            adjustment = adjust_blocks(parcels, data.blocks, project, graph=graph, scores=blocks)
            parcels = parcels.join(adjustment.parcels)
    if blocks is not None and rings is not None:
        # the rings' columns (e.g. `ring`, from rings.designated) replace any of the same name in the layer
        overlap = [c for c in rings.blocks.columns if c != "block_id" and c in blocks]
        blocks = blocks.drop(columns=overlap).merge(rings.blocks, on="block_id", how="left")
    result = AssessmentResult(parcels=parcels, blocks=blocks, kpis=kpis, park=park or {}, rings=rings, scatter=scatter,
                              services=services, chains=chains)
    result.tables = summary_tables(parcels)
    result.tables["benchmarks"] = performance.attrs["benchmarks"]
    if project.robustness.samples:
        result.tables["robustness"] = robustness_summary(parcels)
    result.tables["scatter_metrics"] = scatter.metrics
    result.tables["scatter_before_after"] = scatter.before_after
    if parcels["conversion_candidate"].any():
        result.tables["conversion"] = conversion_summary(parcels)
    if parcels["vertical_suitable"].any():
        result.tables["vertical"] = vertical_summary(parcels)
    if chains is not None:
        result.tables.update(chain_coverage=chains.coverage, chain_leaders=chains.leaders, chain_flows=chains.flows)
    if services is not None:
        tables = {"service_access": services.access, "service_short_blocks": services.short_blocks,
                  "road_hierarchy": services.roads, "road_grading": services.grading}
        result.tables.update({name: table for name, table in tables.items() if table is not None and len(table)})
    if len(assembly.sites):
        result.layers["assembly_sites"] = assembly.sites
    if adjustment is not None:
        result.layers["block_changes"] = adjustment.proposals
        result.layers["proposed_blocks"] = adjustment.blocks
        result.tables["block_before_after"] = adjustment.before_after
    if data.overrides is not None:
        result.tables["overrides"] = audit_table(parcels, data.overrides)
    if data.objections is not None:
        result.tables["objections"] = objection_register(parcels, data.objections)
    if rings is not None:
        result.tables["ring_profiles"] = rings.profiles
        result.tables["ring_disagreements"] = rings.disagreements
    result.summary = summarise(result, year=year)
    return result


#: The value assessment's columns (:func:`landkit.assess.valuation.assess_value`), which a scenario may take over.
VALUE_COLUMNS = ["price_zone", "price_use", "land_price_yuan_m2", "date_factor", "far_factor", "lease_years_left",
                 "lease_factor", "site_factor", "land_value_full_term_wan", "land_value_wan", "structure_used",
                 "building_share", "building_value_wan", "total_value_wan", "value_per_mu_wan", "value_missing_reason"]


def _value_reads_inputs_only(project: Project, data: Dataset) -> bool:
    """Return whether the site factors read only the parcel layer's own columns (not a class or a score a variant moves)."""
    inputs = set(data.parcels.columns)
    return all(names_in(factor.when, key=f"valuation.site_factors ({factor.name})") <= inputs
               for factor in project.valuation.site_factors)


#: Columns of the list and the paths, replaced whole when they are recomputed.
LIST_COLUMNS_PREFIX = "r_"


def add_list_and_paths(parcels: gpd.GeoDataFrame, project: Project, *, year: int) -> gpd.GeoDataFrame:
    """Join the low-efficiency list, the watch flags and the paths (replacing any there already).

    ``landkit rings`` and ``landkit scatter`` call it again after recomputing the flags the list
    and the paths read, so a run's list never goes stale.
    """
    parcels = parcels.copy()  # one consolidation of the joined columns: the rules' frames are shallow copies of it
    listed = list_low_efficiency(parcels, project.inventory)
    paths = assign_disposal(parcels.drop(columns=[c for c in listed.columns if c in parcels]), listed, project.disposal,
                            year=year, inventory=project.inventory, valuation=project.valuation)
    stale = [c for c in [*listed.columns, *paths.columns] if c in parcels] + [c for c in parcels.columns if c.startswith(LIST_COLUMNS_PREFIX)]
    return parcels.drop(columns=list(dict.fromkeys(stale))).join(listed).join(paths)


def relist(parcels: gpd.GeoDataFrame, project: Project, *, year: int, blocks: gpd.GeoDataFrame | None = None,
           kpis: pd.DataFrame | None = None, previous: dict[str, Any] | None = None) -> tuple[AssessmentResult, dict[str, pd.DataFrame]]:
    """Recompute a run's list, paths, summary tables and summary after its flags changed.

    ``landkit rings`` and ``landkit scatter`` rewrite ``ring``, ``function_fit``, ``small``,
    ``isolated`` … which the list's reasons and the paths read: this keeps the ``inventory`` and
    ``watchlist`` layers, the tables and ``summary.json`` in step with them. ``previous`` is the
    run's summary, whose other parts (park, rings, scatter) are kept.

    Returns
    -------
    (AssessmentResult, dict)
        The result (``summary`` merged over ``previous``) and the layers and tables to replace.
    """
    parcels = add_list_and_paths(parcels, project, year=year)
    result = AssessmentResult(parcels=parcels, blocks=blocks, kpis=kpis if kpis is not None else pd.DataFrame(),
                              park=(previous or {}).get("park") or {})
    result.tables = summary_tables(parcels)
    fresh = summarise(result, year=year)
    kept = {k: v for k, v in (previous or {}).items() if k in ("park", "rings", "scatter", "benchmarks", "blocks", "kpis")}
    result.summary = {**fresh, **kept}
    layers: dict[str, pd.DataFrame] = {"parcels": _ordered(parcels), "inventory": _ordered(result.inventory),
                                       "watchlist": _ordered(result.watchlist)}
    layers.update({k: result.tables[k] for k in ("by_grade", "by_track", "by_listing", "by_path", "by_block_path")})
    return result, layers


def summary_tables(parcels: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Return the summary tables: by class (and track), class by listing, by path, by block and path."""
    has_tax = "tax_wan" in parcels
    order = [*GRADES, UNGRADED]
    used = ["parcel_id", "grade", "area_mu", "track", "low_efficiency", "watch", "disposal", "disposal_zh", "land_freed_mu",
            "floor_area_added_m2", "tax_gain_wan", "compensation_wan", "block_id", "ownership"]
    frame = pd.DataFrame(parcels[[c for c in used if c in parcels]])  # the columns read: no copy of the whole layer
    frame["tax_wan"] = parcels["tax_wan"] if has_tax else np.nan
    by_grade = (
        frame.groupby("grade").agg(parcels=("parcel_id", "size"), area_mu=("area_mu", "sum"))
        .assign(tax_wan=frame.groupby("grade")["tax_wan"].sum(min_count=1))
        .reindex(order)
        .rename_axis("grade")
        .reset_index()
    )
    by_grade[["parcels", "area_mu"]] = by_grade[["parcels", "area_mu"]].fillna(0)
    by_grade["parcels"] = by_grade["parcels"].astype(int)
    track = frame["track"].fillna("") if "track" in frame else pd.Series("", index=frame.index)
    by_track = pd.crosstab(track.rename("track"), frame["grade"]).reindex(columns=order, fill_value=0).reset_index()
    listing = np.select([frame["low_efficiency"], frame["watch"]], ["inventory", "watch"], "none")
    by_listing = pd.crosstab(frame["grade"], pd.Series(listing, index=frame.index, name="listing")).reindex(
        index=order, columns=["inventory", "watch", "none"], fill_value=0).rename_axis("grade").reset_index()
    with_path = frame[frame["disposal"] != ""]
    by_path = _gains(with_path.groupby(["disposal", "disposal_zh"])).reset_index()
    listed = frame[frame["low_efficiency"]]
    block_key = listed["block_id"].fillna("区块外") if "block_id" in listed else pd.Series("全部", index=listed.index)
    by_block = _gains(listed.assign(block_id=block_key).groupby(["block_id", "disposal"])).reset_index()
    tables = {"by_grade": by_grade, "by_track": by_track, "by_listing": by_listing, "by_path": by_path, "by_block_path": by_block}
    if "ownership" in frame and frame["ownership"].notna().any():  # 集体建设用地 and 国有载体 apart (plan item 13)
        listed_mu = frame["area_mu"].where(frame["low_efficiency"], 0.0)
        tables["by_ownership"] = (
            frame.assign(ownership=frame["ownership"].fillna("unknown"), listed=frame["low_efficiency"].astype(int), listed_mu=listed_mu)
            .groupby("ownership")
            .agg(parcels=("parcel_id", "size"), area_mu=("area_mu", "sum"), inventory_parcels=("listed", "sum"),
                 inventory_area_mu=("listed_mu", "sum"))
            .reindex([*OWNERSHIPS, "unknown"]).dropna(how="all").rename_axis("ownership").reset_index()
        )
    return tables


def _gains(groups: Any) -> pd.DataFrame:
    """Return the paths' gains and cost per group: parcels, area, land freed, floor area, tax gain, compensation
    (NaN where no parcel's is known) and the parcels whose compensation is unknown."""
    out = groups.agg(parcels=("parcel_id", "size"), area_mu=("area_mu", "sum"), land_freed_mu=("land_freed_mu", "sum"),
                     floor_area_added_m2=("floor_area_added_m2", "sum"), tax_gain_wan=("tax_gain_wan", "sum"))
    compensation = groups["compensation_wan"]
    out["compensation_wan"] = compensation.sum(min_count=1)
    out["compensation_unknown"] = out["parcels"] - compensation.count()
    return out


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (None if pd.isna(v) else (v.item() if isinstance(v, np.generic) else v)) for k, v in row.items()} for row in frame.to_dict("records")]


def _total(values: pd.Series) -> dict[str, Any]:
    """Return a total that says how many parcels it leaves out: ``{"total": …, "parcels": n, "missing": m}``."""
    present = values.notna()
    return {"total": float(values.sum()) if present.any() else None, "parcels": int(present.sum()), "missing": int((~present).sum())}


def summarise(result: AssessmentResult, *, year: int) -> dict[str, Any]:
    """Return the headline figures as plain data (written to summary.json).

    Every money total carries the number of parcels it counts and the number it leaves out
    (``missing``: parcels without a value, or a path whose compensation cannot be estimated).
    """
    parcels = result.parcels
    listed = parcels[parcels["low_efficiency"]]
    reason_counts = {}
    for code in (c.removeprefix("r_") for c in parcels.columns if c.startswith("r_")):
        flag = parcels[f"r_{code}"]
        reason_counts[code] = {"parcels": int(flag.sum()), "area_mu": float(parcels.loc[flag, "area_mu"].sum()),
                               "listed": int((flag & parcels["low_efficiency"]).sum()), "watch": int((flag & parcels["watch"]).sum())}
    blocks = []
    if result.blocks is not None:
        cols = [c for c in ("block_id", "block_name", "block_score", "block_rank") if c in result.blocks]
        blocks = _records(pd.DataFrame(result.blocks[cols]))
    missing_value = parcels["value_missing_reason"].replace("", np.nan).dropna()
    area = float(parcels["area_mu"].sum())
    paths = parcels[parcels["disposal"] != ""]
    return {
        "year": year,
        "parcels": len(parcels),
        "area_mu": area,
        "grades": {row["grade"]: {"parcels": int(row["parcels"]), "area_mu": float(row["area_mu"])} for row in _records(result.tables["by_grade"])},
        "grades_by_track": _records(result.tables["by_track"]),
        "grade_by_listing": _records(result.tables["by_listing"]),
        "direct_grades": {k: int(v) for k, v in parcels["direct_grade"].replace("", np.nan).dropna().value_counts().items()},
        "legally_idle": {"parcels": int(parcels["legally_idle"].sum()), "area_mu": float(parcels.loc[parcels["legally_idle"], "area_mu"].sum())},
        "inventory": {
            "parcels": len(listed),
            "area_mu": float(listed["area_mu"].sum()),
            "share_of_parcels": len(listed) / len(parcels) if len(parcels) else None,
            "share_of_area": float(listed["area_mu"].sum()) / area if area else None,
            "land_freed_mu": float(listed["land_freed_mu"].sum()),
            "floor_area_added_m2": float(listed["floor_area_added_m2"].sum()),
            "tax_gain_wan": float(listed["tax_gain_wan"].sum()),
            "compensation_wan": _total(listed["compensation_wan"]),
            "by_reason": reason_counts,
            "by_basis": {k: int(v) for k, v in listed["list_basis"].value_counts().items()},
        },
        "watch": {"parcels": int(parcels["watch"].sum()), "area_mu": float(parcels.loc[parcels["watch"], "area_mu"].sum())},
        "paths": {
            "parcels": len(paths),
            "land_freed_mu": float(paths["land_freed_mu"].sum()),
            "floor_area_added_m2": float(paths["floor_area_added_m2"].sum()),
            "tax_gain_wan": float(paths["tax_gain_wan"].sum()),
            "compensation_wan": _total(paths["compensation_wan"]),
            "by_path": _records(result.tables["by_path"]),
        },
        "value": {
            "total_value_wan": _total(parcels["total_value_wan"]),
            "land_value_wan": _total(parcels["land_value_wan"]),
            "valued_area_mu": float(parcels.loc[parcels["total_value_wan"].notna(), "area_mu"].sum()),
            "without_value": {k: int(v) for k, v in missing_value.value_counts().items()},
        },
        "benchmarks": _records(result.tables.get("benchmarks", pd.DataFrame())),
        "blocks": blocks,
        "park": result.park,
        "kpis": _records(result.kpis),
        "rings": _ring_summary(result),
        "scatter": _scatter_summary(result),
        "plan": _plan_summary(result),
        "decisions": _decisions_summary(result),
        "robustness": _robustness_summary(result),
        "assembly": _assembly_summary(result),
    }


def _assembly_summary(result: AssessmentResult) -> dict[str, Any]:
    """Return the 连片整合 sites in figures: how many of each size class, their area and cost."""
    sites = result.layers.get("assembly_sites")
    parcels = result.parcels
    out: dict[str, Any] = {"candidates": int(parcels["assembly_candidate"].sum()),
                           "willing": int(parcels["assembly_willing"].sum()), "sites": 0}
    if sites is None or not len(sites):
        return out
    out.update(sites=len(sites), area_mu=float(sites["area_mu"].sum()), parcels=int(sites["parcels"].sum()),
               acquisition_wan=_total(sites["acquisition_wan"]),
               largest={"site_id": str(sites["site_id"].iloc[0]), "area_mu": float(sites["area_mu"].iloc[0])},
               by_size={str(int(t)): int((sites["size_class_mu"] == t).sum()) for t in sorted(sites["size_class_mu"].unique())})
    return out


def _robustness_summary(result: AssessmentResult) -> dict[str, Any] | None:
    """Return how many ranked parcels' classes depend on contested weights (the park row of the robustness table)."""
    table = result.tables.get("robustness")
    if table is None or not len(table):
        return None
    park = table.iloc[-1]
    return {"ranked": int(park["ranked"]), "unstable": int(park["unstable"]),
            "unstable_share": float(park["unstable_share"]), "unstable_share_of_graded": float(park["unstable_share_of_graded"])}


def _decisions_summary(result: AssessmentResult) -> dict[str, Any]:
    """Return the overrides counted (rows, parcels, by field) and the objections by status."""
    parcels = result.parcels
    audit = result.tables.get("overrides")
    by_field = audit["field"].value_counts() if audit is not None else pd.Series(dtype=int)
    overridden = parcels["overridden"] if "overridden" in parcels else pd.Series(False, index=parcels.index)
    grade_changed = (parcels["grade"] != parcels["grade_computed"]) & overridden if "grade_computed" in parcels else overridden & False
    return {
        "overrides": len(audit) if audit is not None else 0,
        "overridden_parcels": int(overridden.sum()),
        "by_field": {k: int(v) for k, v in by_field.items()},
        "class_changed": int(grade_changed.sum()),
        "objections": objection_summary(result.tables.get("objections")),
    }


def _plan_summary(result: AssessmentResult) -> dict[str, Any]:
    """Return the plan's items 12–14 in figures: block changes and concentration, 商办→研发, 工业上楼, collective land."""
    parcels = result.parcels
    out: dict[str, Any] = {}
    changes = result.layers.get("block_changes")
    if changes is not None:
        counts = changes["change_kind"].value_counts() if len(changes) else pd.Series(dtype=int)
        park = result.tables["block_before_after"]
        park = park[park["level"] == "park"].set_index("metric")
        out["block_changes"] = {kind: int(counts.get(kind, 0)) for kind in ("move_out", "bring_in", "merge")}
        out["concentration"] = {m: {"before": float(r["before"]), "after": float(r["after"])} for m, r in park.iterrows()}
    if "conversion_candidate" in parcels:
        cand = parcels["conversion_candidate"]
        out["conversion"] = {"parcels": int(cand.sum()), "area_mu": float(parcels.loc[cand, "area_mu"].sum())}
    if "vertical_suitable" in parcels:
        ok = parcels["vertical_suitable"]
        out["vertical"] = {"parcels": int(ok.sum()), "priority_parcels": int((parcels["vertical_priority"] == 1).sum()),
                           "floor_area_added_m2": float(parcels.loc[ok, "vertical_floor_area_added_m2"].sum())}
    if "ownership" in parcels:
        collective = parcels["ownership"] == "collective"
        out["collective"] = {"parcels": int(collective.sum()), "listed": int((collective & parcels["low_efficiency"]).sum())}
    return out


def _scatter_summary(result: AssessmentResult) -> dict[str, Any] | None:
    if result.scatter is None:
        return None
    parcels = result.parcels
    adjustments = parcels["adjustment"].replace("", np.nan).dropna().value_counts().to_dict() if "adjustment" in parcels else {}
    return {
        "small": int(parcels["small"].sum()),
        "isolated": int(parcels["isolated"].sum()),
        "sporadic": int(parcels["sporadic"].sum()),
        "clusters": len(result.scatter.clusters),
        "adjustments": {k: int(v) for k, v in adjustments.items()},
        "before_after": _records(result.scatter.before_after),
    }


def _ring_summary(result: AssessmentResult) -> dict[str, Any] | None:
    if result.rings is None:
        return None
    report = result.rings.report
    return {
        "profiles": _records(result.tables["ring_profiles"]),
        "disagreements": _records(result.rings.disagreements),
        "pairs": report.get("pairs", []),
        "unreachable_parcels": report.get("unreachable_parcels", []),
        "network": report.get("network"),
    }


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """Return the headline figures of an assessment as lines for a terminal."""
    grades = summary["grades"]
    inv = summary["inventory"]
    paths = summary["paths"]
    comp = paths["compensation_wan"]
    value = summary["value"]["total_value_wan"]
    lines = [
        _("{parcels:,} parcels, {area:,.0f} 亩: {grades}").format(
            parcels=summary["parcels"], area=summary["area_mu"],
            grades=", ".join(f"{g} {v['parcels']:,}" for g, v in grades.items())),
        f"低效用地清单 {inv['parcels']:,} 宗 {inv['area_mu']:,.0f} 亩 (占地块 {100 * (inv['share_of_parcels'] or 0):.1f}%, "
        f"占面积 {100 * (inv['share_of_area'] or 0):.1f}%); 关注清单 {summary['watch']['parcels']:,} 宗",
        f"盘活: 可腾退 {paths['land_freed_mu']:,.0f} 亩, 可新增建筑面积 {paths['floor_area_added_m2'] / 1e4:,.1f} 万m², "
        f"税收增量 {paths['tax_gain_wan']:,.0f} 万元/年, 补偿估算 {(comp['total'] or 0):,.0f} 万元"
        + (f" (另 {comp['missing']:,} 宗无法估算)" if comp["missing"] else ""),
    ]
    plan = summary.get("plan") or {}
    if "block_changes" in plan:
        c, hhi = plan["block_changes"], plan["concentration"].get("hhi", {})
        inside = plan["concentration"].get("inside_block_pct", {})
        lines.append(f"园区地块动态调整: 调出 {c['move_out']} 处, 调入 {c['bring_in']} 处, 区块合并 {c['merge']} 处; "
                     f"入区率 {inside.get('before', 0):.1f}% → {inside.get('after', 0):.1f}%, "
                     f"集中度(HHI) {hhi.get('before', 0):.4f} → {hhi.get('after', 0):.4f}")
    if plan.get("vertical") or plan.get("conversion"):
        v, cv = plan.get("vertical", {}), plan.get("conversion", {})
        lines.append(f"工业上楼适宜 {v.get('parcels', 0):,} 宗 (优先区域 {v.get('priority_parcels', 0):,} 宗), 可增建筑面积 "
                     f"{v.get('floor_area_added_m2', 0) / 1e4:,.1f} 万m²; 商办转研发候选 {cv.get('parcels', 0):,} 宗 {cv.get('area_mu', 0):,.0f} 亩")
    robust = summary.get("robustness")
    if robust:
        lines.append(f"等级稳健性: 权重在设定范围内变动时, {robust['unstable']:,} 宗参评地块 (占参评 {100 * robust['unstable_share_of_graded']:.1f}%) "
                     "的等级随权重而变")
    assembly = summary.get("assembly") or {}
    if assembly.get("sites"):
        cost = assembly["acquisition_wan"]["total"]
        sizes = ", ".join(f"≥{size} 亩 {n} 处" for size, n in assembly["by_size"].items())
        lines.append(f"连片整合: 可整合地块 {assembly['candidates']:,} 宗, 成片地块 {assembly['sites']} 处 {assembly['area_mu']:,.0f} 亩 "
                     f"({sizes}); 最大 {assembly['largest']['site_id']} {assembly['largest']['area_mu']:,.0f} 亩"
                     + (f"; 整合成本约 {cost / 1e4:,.1f} 亿元" if cost is not None else ""))
    decisions = summary.get("decisions") or {}
    if decisions.get("overrides") or any((decisions.get("objections") or {}).values()):
        o = decisions.get("objections") or {}
        lines.append(f"人工调整 {decisions['overrides']} 项 ({decisions['overridden_parcels']} 宗, 其中直接改定等级 {decisions['class_changed']} 宗); "
                     f"异议 {sum(o.values())} 件: 已受理 {o.get('received', 0)}, 成立 {o.get('upheld', 0)}, 驳回 {o.get('rejected', 0)}")
    if value["missing"]:
        lines.append(f"综合价值 {(value['total'] or 0) / 1e4:,.1f} 亿元, 不含未估价地块 {value['missing']:,} 宗 (见 value_missing_reason)")
    return lines


#: Columns of the parcels layer, in order (those present are written).
PARCEL_COLUMNS_FIRST = [
    "parcel_id", "block_id", "block_name", "land_use", "status", "area_mu", "track", "grade", "score", "rank_in_track",
    "rank_in_block", "grade_basis", "grade_reason_zh", "weakest_zh", "ungraded_reason", "low_efficiency", "watch",
    "list_basis", "reasons", "reasons_zh", "disposal", "disposal_zh",
]


def _ordered(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    first = [c for c in PARCEL_COLUMNS_FIRST if c in frame]
    rest = [c for c in frame.columns if c not in first and c != frame.geometry.name]
    return frame[first + rest + [frame.geometry.name]]
