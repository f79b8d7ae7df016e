"""The project configuration: one YAML file, validated once at load.

A project file names the inputs, maps the planner's columns onto landkit's canonical ones
(:mod:`landkit.core.schema`), and may override any number of the shipped default profile
(``landkit/config/profiles/default.yaml``, every number commented with its source). The user's file is
merged over the default profile key by key (lists replace), then validated: an error names the
key, the bad value and what is allowed. Relative paths are resolved against the project file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator, model_validator

from landkit.core.i18n import _
from landkit.core.schema import CANONICAL, FACILITY_KINDS, FIRE_CLASSES, OBJECTION_STATUSES, OWNERSHIPS, STATUSES
from landkit.core.units import dimension_of, unit_factor


def used_indicators(assessment: Assessment) -> list[str]:
    """Return the indicators some track weights, in definition order."""
    used = {name for track in assessment.tracks for name in track.weights}
    return [name for name in assessment.indicators if name in used]

Grade = Literal["A", "B", "C", "D"]
PositiveFloat = Annotated[float, Field(gt=0)]
Share = Annotated[float, Field(ge=0, le=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- inputs and columns ------------------------------------------------------------------------


class Source(_Strict):
    """Where one input comes from: a file (and layer or sheet), or a PostgreSQL table or query.

    A ``path`` of ``postgresql://...`` reads from a database (:mod:`landkit.io.postgis.write`): ``layer``
    names the table (``schema.table``) or ``query`` a SELECT.
    """

    path: str
    layer: str | None = None
    sheet: str | None = None
    encoding: str | None = None
    crs: str | None = None
    query: str | None = None
    header_row: int | None = Field(None, ge=1)  # 1-based row of a spreadsheet's header; found when unset

    @model_validator(mode="after")
    def _query_needs_database(self) -> Source:
        from landkit.core.db_url import is_db_url

        if self.query is not None and not is_db_url(self.path):
            raise ValueError(_("`query` reads from a database: `path` must be a postgresql:// URL"))
        return self

    @field_serializer("path")
    def _no_password(self, path: str) -> str:  # the manifest records the configuration: never a password
        from landkit.core.db_url import redact

        return redact(path)


class RasterSource(_Strict):
    """A raster input and how parcels summarise it."""

    name: str
    path: str
    band: int = Field(1, ge=1)
    kind: Literal["continuous", "categorical"] = "continuous"
    stats: list[Literal["mean", "sum", "min", "max", "count", "std", "majority"]] = ["mean"]
    nodata: float | None = None


class Inputs(_Strict):
    """The project's input layers and tables (all optional here; commands say what they need)."""

    parcels: Source | None = None
    enterprises: Source | None = None
    blocks: Source | None = None
    roads: Source | None = None
    core_sites: Source | None = None
    land_price: Source | None = None
    price_zones: Source | None = None
    facilities: Source | None = None  # public-service facilities (points), plan item 12
    overrides: Source | None = None  # decisions on classes, paths and input figures (landkit.data.overrides)
    objections: Source | None = None  # the 公示/异议 register
    rasters: list[RasterSource] = []


class ColumnSpec(_Strict):
    """A mapping of one canonical column: candidate source names and the source's unit."""

    names: list[str]
    unit: str | None = None


def _as_column_spec(value: Any) -> Any:
    if isinstance(value, str):
        return {"names": [value]}
    if isinstance(value, list):
        return {"names": value}
    if isinstance(value, dict) and "column" in value:
        value = dict(value)
        column = value.pop("column")
        # A project's `names` (merged over the default's `column`) takes precedence.
        value.setdefault("names", [column] if isinstance(column, str) else column)
    return value


class Columns(_Strict):
    """Column mapping per input: canonical name → source column name(s), optionally with a unit.

    ``parcel_id: 地块编号`` or ``parcel_id: [地块编号, 地块代码]`` (the first present wins) or
    ``tax_wan: {column: 税收(元), unit: 元}``.
    """

    parcels: dict[str, ColumnSpec] = {}
    enterprises: dict[str, ColumnSpec] = {}
    blocks: dict[str, ColumnSpec] = {}
    roads: dict[str, ColumnSpec] = {}
    core_sites: dict[str, ColumnSpec] = {}
    land_price: dict[str, ColumnSpec] = {}
    price_zones: dict[str, ColumnSpec] = {}
    facilities: dict[str, ColumnSpec] = {}
    overrides: dict[str, ColumnSpec] = {}
    objections: dict[str, ColumnSpec] = {}

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = {}
        for kind, mapping in data.items():
            if not isinstance(mapping, dict):
                out[kind] = mapping
                continue
            allowed = CANONICAL.get(kind, {})
            for canonical, spec in mapping.items():
                if allowed and canonical not in allowed:
                    raise ValueError(
                        _("unknown canonical column `{canonical}` for {kind}; allowed: {allowed}").format(
                            canonical=canonical, kind=kind, allowed=", ".join(allowed))
                    )
                unit = spec.get("unit") if isinstance(spec, dict) else None
                if unit is not None:
                    unit_factor(canonical, unit)  # raises ConfigError naming the allowed units
            out[kind] = {k: _as_column_spec(v) for k, v in mapping.items()}
        return out


class Values(_Strict):
    """Vocabularies: which raw cell values mean which canonical value."""

    status: dict[Literal[STATUSES], list[str]]  # type: ignore[valid-type]
    ownership: dict[Literal[OWNERSHIPS], list[str]] = {}  # type: ignore[valid-type]
    fire_class: dict[Literal[FIRE_CLASSES], list[str]] = {}  # type: ignore[valid-type]
    facility_kind: dict[Literal[FACILITY_KINDS], list[str]] = {}  # type: ignore[valid-type]
    objection_status: dict[Literal[OBJECTION_STATUSES], list[str]] = {}  # type: ignore[valid-type]
    true: list[str]
    false: list[str]
    parcel_id_separators: list[Annotated[str, Field(min_length=1)]] = ["；", ";", "、"]


class CRSConfig(_Strict):
    """The working CRS (areas, distances) and the CRS outputs are written in."""

    working: str
    output: str = "input"

    @field_validator("working")
    @classmethod
    def _projected(cls, value: str) -> str:
        from pyproj import CRS
        from pyproj.exceptions import CRSError as ProjError

        try:
            crs = CRS.from_user_input(value)
        except ProjError as exc:
            raise ValueError(_("not a CRS PROJ understands ({error})").format(error=exc)) from None
        if not crs.is_projected:
            raise ValueError(_("must be a projected CRS in metres (areas are never computed in degrees)"))
        return value

    @field_validator("output")
    @classmethod
    def _output(cls, value: str) -> str:
        if value in ("input", "working"):
            return value
        from pyproj import CRS
        from pyproj.exceptions import CRSError as ProjError

        try:
            CRS.from_user_input(value)
        except ProjError:
            raise ValueError(_("must be `input`, `working` or a CRS such as EPSG:4490")) from None
        return value


class ValidationRules(_Strict):
    """Tolerances of `landkit validate`."""

    overlap_tolerance_m2: float = Field(ge=0)
    sliver_area_m2: float = Field(ge=0)


# --- assessment (两评估) -------------------------------------------------------------------------


class Derive(_Strict):
    """A benchmark derived from the data: ``factor`` × the ``statistic`` of the indicator.

    Over the graded parcels of the track (``by: track``) or of the track and industry group
    (``by: group``), before grading. 淮安 sets each benchmark at about twice the county's
    previous-year average (2024 评价办法): ``{statistic: mean, factor: 2}`` on last year's data
    gives that; on this year's data it is the current-year variant.
    """

    statistic: Literal["mean", "median"] = "mean"
    factor: PositiveFloat = 1.0
    by: Literal["track", "group"] = "track"


class Indicator(_Strict):
    """One performance indicator: formula, unit, direction, normalisation and missing-data policy."""

    label_zh: str
    label_en: str
    unit: str = ""
    formula: str
    direction: Literal["higher", "lower"] = "higher"
    method: Literal["benchmark", "minmax", "percentile"] = "benchmark"
    benchmark: PositiveFloat | None = None
    benchmark_by_group: dict[str, PositiveFloat] = {}
    derive: Derive | None = None
    cap: PositiveFloat = 1.0
    missing: Literal["mean", "zero", "exclude"] = "mean"

    @model_validator(mode="after")
    def _benchmark_given(self) -> Indicator:
        if self.method == "benchmark" and self.benchmark is None and self.derive is None:
            raise ValueError(_("method `benchmark` needs a `benchmark` value greater than 0 (or `derive`)"))
        return self


class Grading(_Strict):
    """How scores become grades: by rank shares (top 25 % A, ...) or by score thresholds."""

    method: Literal["rank", "score"] = "rank"
    rank_shares: dict[Grade, Share]
    score_min: dict[Literal["A", "B", "C"], Annotated[float, Field(ge=0, le=100)]]

    @field_validator("rank_shares")
    @classmethod
    def _shares(cls, shares: dict[str, float]) -> dict[str, float]:
        if set(shares) != {"A", "B", "C", "D"} or abs(sum(shares.values()) - 1) > 1e-9:
            raise ValueError(_("needs A, B, C and D whose shares sum to 1"))
        return shares

    @field_validator("score_min")
    @classmethod
    def _ordered(cls, cuts: dict[str, float]) -> dict[str, float]:
        if set(cuts) != {"A", "B", "C"} or not cuts["A"] > cuts["B"] > cuts["C"]:
            raise ValueError(_("needs A > B > C (minimum score of each grade; below C is D)"))
        return cuts


class Track(_Strict):
    """An indicator set for one group of parcels, ranked on its own; the first track whose `when` holds applies."""

    name: str
    label_zh: str
    label_en: str
    when: str | None = None
    weights: dict[str, PositiveFloat]
    #: Benchmarks of this track that differ from the indicator's (e.g. 规下 firms' own).
    benchmarks: dict[str, PositiveFloat] = {}
    #: This track's own grading (shares or cuts); else the assessment's.
    grading: Grading | None = None

    @field_validator("weights")
    @classmethod
    def _sum_100(cls, weights: dict[str, float]) -> dict[str, float]:
        total = sum(weights.values())
        if abs(total - 100) > 1e-6:
            raise ValueError(_("weights must sum to 100, they sum to {total:g}").format(total=total))
        return weights


class DirectGrade(_Strict):
    """A class given outside the quota when ``when`` holds (e.g. stopped for years → D)."""

    code: str
    grade: Grade
    label_zh: str
    label_en: str
    when: str


class Ungraded(_Strict):
    """Parcels that get grade U (with the reason) rather than a score."""

    statuses: list[str]
    land_uses: list[str]
    min_enterprise_age_years: int = Field(ge=0)
    require_enterprise: bool = True


class Assessment(_Strict):
    """产业用地综合绩效评估: indicators, tracks, grading and what is left ungraded."""

    indicators: dict[str, Indicator]
    industry_groups: dict[str, list[str]] = {}
    tracks: list[Track] = Field(min_length=1)
    params: dict[str, Any] = {}
    grading: Grading
    direct_grades: list[DirectGrade] = []
    ungraded: Ungraded

    @model_validator(mode="after")
    def _tracks_use_known_indicators(self) -> Assessment:
        names = [t.name for t in self.tracks]
        if len(set(names)) != len(names):
            raise ValueError(_("track names must be unique, got {names}").format(names=names))
        for track in self.tracks:
            for what, used in (("weights", track.weights), ("benchmarks", track.benchmarks)):
                unknown = set(used) - set(self.indicators)
                if unknown:
                    raise ValueError(
                        _("track `{track}` {what} unknown indicators {unknown}; defined: {defined}").format(
                            track=track.name, what=what, unknown=sorted(unknown), defined=", ".join(self.indicators))
                    )
        return self


class SiteFactor(_Strict):
    """One regional or site factor of ΣK: ``k`` where ``when`` holds."""

    name: str
    label_zh: str
    k: Annotated[float, Field(gt=-1, lt=1)]
    when: str


class Structure(_Strict):
    """A building structure class: replacement cost and economic life."""

    replacement_cost_yuan_m2: PositiveFloat
    life_years: int = Field(gt=0)


class Compensation(_Strict):
    """Standards for the compensation of paths that take land back."""

    reduction_wan_per_mu: float = Field(ge=0)


class Valuation(_Strict):
    """产业用地综合价值评估 by the benchmark-price coefficient method, buildings by structure."""

    cap_rate: Annotated[float, Field(gt=0, lt=1)]
    standard_lease_years: int = Field(gt=0)
    price_date_year: int
    price_change_per_year: Annotated[float, Field(gt=-1, lt=1)] = 0.0
    price_uses: dict[str, str]
    district_default_yuan_m2: dict[str, PositiveFloat] = {}
    far_correction: list[tuple[Annotated[float, Field(ge=0)], PositiveFloat]] = Field(min_length=1)
    site_factors: list[SiteFactor] = []
    structures: dict[str, Structure] = Field(min_length=1)
    default_structure: str
    compensation: Compensation

    @field_validator("far_correction")
    @classmethod
    def _increasing(cls, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        fars = [p[0] for p in points]
        if fars != sorted(set(fars)):
            raise ValueError(_("[FAR, coefficient] points must have increasing FAR values"))
        return points

    @model_validator(mode="after")
    def _default_structure_known(self) -> Valuation:
        if self.default_structure not in self.structures:
            raise ValueError(_("default_structure `{structure}` is not one of the structures: {structures}").format(
                structure=self.default_structure, structures=", ".join(self.structures)))
        return self


class BlockIndicator(_Strict):
    """One block-level land-intensity indicator, scored as min(actual / ideal, 1) × 100."""

    label_zh: str
    label_en: str
    ideal: float = Field(ge=0)
    direction: Literal["higher", "lower"] = "higher"
    weight: PositiveFloat


class BlockAssessment(_Strict):
    """Block and park assessment (开发区土地集约利用评价 style) and the plan's KPIs."""

    indicators: dict[str, BlockIndicator]


class Rule(_Strict):
    """A rule: an expression over parcel columns and named parameters (``@name``)."""

    code: str
    label_zh: str
    label_en: str
    when: str


class Reason(Rule):
    """A reason of the list: explains a C/D listing; with ``watch``, puts an A/B parcel on the watch table."""

    watch: bool = True


class IdleLand(_Strict):
    """闲置土地 as 闲置土地处置办法 (2012) defines it: not started a year after the agreed start."""

    statuses: list[str]
    min_years: float = Field(ge=0)
    free_reclaim_years: float = Field(ge=0)
    start_lag_years: int = Field(ge=0)


class Inventory(_Strict):
    """一清单: which classes are listed, legally idle land, and the reasons that explain a listing."""

    classes: list[Grade]
    watch_classes: list[Grade] = []
    idle_land: IdleLand
    params: dict[str, Any] = {}
    reasons: list[Reason]

    @model_validator(mode="after")
    def _apart(self) -> Inventory:
        both = set(self.classes) & set(self.watch_classes)
        if both:
            raise ValueError(_("classes {classes} are both listed and watched; a class is one or the other").format(
                classes=sorted(both)))
        return self


class PathRule(Rule):
    """A revitalisation path: when it applies, what it gains and what it costs."""

    gains: list[Literal["land", "floor_area", "tax"]] = []
    compensation: Literal["none", "residual", "reduction"] = "none"
    review: bool = False


class Disposal(_Strict):
    """一盘活: rules (first match wins) giving every graded parcel and all idle land a path."""

    params: dict[str, Any] = {}
    rules: list[PathRule]


# --- rings, scatter, maps ----------------------------------------------------------------------


class Rings(_Strict):
    """三圈协同: designated rings, travel-time bands, expected functions and named pairs."""

    labels: dict[str, dict[Literal["zh", "en"], str]]
    designated: dict[str, list[str]] = {}
    time_bands_min: dict[str, PositiveFloat] = {}
    default_speed_kmh: dict[str, PositiveFloat] = {}
    fallback_speed_kmh: PositiveFloat = 30
    snap_tolerance_m: float = Field(ge=0)
    access_speed_kmh: PositiveFloat = 5
    core_snap_max_m: PositiveFloat = 1000
    expected_functions: dict[str, list[str]] = {}
    pairs: list[tuple[str, str]] = []


class Scatter(_Strict):
    """小而散: thresholds for small, isolated and clustered plots."""

    small_plot_mu: dict[str, PositiveFloat]
    cluster_distance_m: float = Field(ge=0)
    isolated_distance_m: float = Field(ge=0)
    land_uses: list[str] = []
    merge_distance_m: float = Field(0, ge=0)
    merge_grades: list[str] = []
    merge_same_land_use: bool = True
    merge_same_ownership: bool = True
    merge_grade_groups: list[list[str]] = [["A", "B"], ["C", "D"]]


class BlockAdjustment(_Strict):
    """园区地块动态调整: changes to the park's blocks drawn from the assessment (plan item 14)."""

    move_out_grades: list[str] = ["C", "D"]
    move_out_idle: bool = True
    fringe_poor_share: Annotated[float, Field(gt=0, le=1)] = 0.5
    core_distance_m: Annotated[float, Field(ge=0)] = 50
    move_out_min_mu: Annotated[float, Field(ge=0)] = 0
    bring_in_grades: list[str] = ["A", "B"]
    bring_in_land_uses: list[str] = []
    bring_in_zone_types: list[str] = ["195"]
    bring_in_distance_m: Annotated[float, Field(ge=0)] = 50
    bring_in_min_mu: Annotated[float, Field(ge=0)] = 10
    merge_blocks_distance_m: Annotated[float, Field(ge=0)] = 100
    merge_same_ring: bool = True


class Robustness(_Strict):
    """Grade robustness (issue 18): the classes under weights sampled around the profile's.

    Each sample scales every track weight by a factor drawn from ``1 ± weight_range`` (``uniform``)
    or draws the weights from a Dirichlet around the profile's shares (``dirichlet``, spread set by
    ``concentration``), then renormalises; ``share_range`` likewise moves the rank shares. A parcel
    is ``stable`` when its modal class has a probability of at least ``stable_probability``.
    """

    samples: int = Field(default=1000, ge=0)  # 0 turns the analysis off
    method: Literal["uniform", "dirichlet"] = "uniform"
    weight_range: Annotated[float, Field(ge=0, lt=1)] = 0.2
    concentration: PositiveFloat = 100.0
    share_range: Annotated[float, Field(ge=0, lt=1)] = 0.0
    stable_probability: Annotated[float, Field(gt=0, le=1)] = 0.9
    seed: int = 2025
    batch: int = Field(default=64, ge=1)  # samples per matrix product (memory: parcels × batch floats)


class Assembly(_Strict):
    """连片整合 (issue 18, the 2025 priority "裁出大衣料子"): contiguous sites from freeable land.

    Parcels where ``candidate_when`` holds are joined when they lie within ``gap_m`` of each
    other (a road's width between them does not break a site); a site is kept when its area
    reaches the smallest of ``min_site_mu``, and tagged with every size class it reaches.
    """

    candidate_when: str = "land_freed_mu > 0 or legally_idle or status == 'unsupplied'"
    willing_column: str = "willing_to_sell"  # optional parcel column: C parcels whose owner would sell
    include_willing: bool = True
    gap_m: Annotated[float, Field(ge=0)] = 40.0
    min_site_mu: list[PositiveFloat] = Field(default=[100.0, 500.0], min_length=1)


class Conversion(_Strict):
    """商办用地转研发用地: commercial and office land the rules mark for R&D use (plan item 13).

    ``reasons`` are flags ``cv_<CODE>`` over the parcel columns (``@zones``, ``@towns`` and
    ``params`` as parameters); a parcel of ``land_uses`` is a candidate for ``target_use`` when
    ``candidate_when`` holds over the flags and the parcel columns.
    """

    land_uses: list[str] = []
    target_use: str = "C65"
    zones: list[str] = []
    towns: list[str] = []
    params: dict[str, Any] = {}
    reasons: list[Rule] = []
    candidate_when: str = "False"

    @field_validator("reasons")
    @classmethod
    def _unique_codes(cls, reasons: list[Rule]) -> list[Rule]:
        codes = [r.code for r in reasons]
        if len(set(codes)) != len(codes):
            raise ValueError(_("reason codes must be unique, got {codes}").format(codes=codes))
        return reasons


class VerticalFactory(_Strict):
    """工业上楼: the parcel and building screen (plan item 14).

    An empty list (``land_uses``, ``industries``, ``grades``, ``fire_classes``) and a minimum of 0
    apply no criterion.
    """

    zones_first: list[str] = []
    towns_first: list[str] = []
    land_uses: list[str] = []
    industries: list[str] = []
    grades: list[str] = []
    target_far: PositiveFloat = 2.0
    min_area_mu: Annotated[float, Field(ge=0)] = 0
    min_compactness: Annotated[float, Field(ge=0, le=1)] = 0
    road_access_m: Annotated[float, Field(ge=0)] = 100
    min_floor_load_t_m2: Annotated[float, Field(ge=0)] = 0
    min_storey_height_m: Annotated[float, Field(ge=0)] = 0
    min_freight_lift_t: Annotated[float, Field(ge=0)] = 0
    fire_classes: list[Literal["甲", "乙", "丙", "丁", "戊"]] = []


class Services(_Strict):
    """Public services and the road system (plan item 12): reach of each kind of facility, and the road hierarchy."""

    #: Minutes by road within which a parcel counts as served, per kind of facility.
    minutes: dict[Literal[FACILITY_KINDS], PositiveFloat] = {}  # type: ignore[valid-type]
    #: A block (ring, the park) falls short of a kind when fewer of its parcels are served.
    min_share: Share = 0.8
    #: The road layer's ``road_class`` values → the urban hierarchy (codes map to themselves).
    road_classes: dict[str, Literal["expressway", "arterial", "secondary", "local", "other"]] = {}
    #: Guideline density per class, km/km² (low, high): GB 50220-95 表7.1.6-1.
    road_density_km_per_km2: dict[Literal["expressway", "arterial", "secondary", "local"],
                                  tuple[Annotated[float, Field(ge=0)], Annotated[float, Field(ge=0)]]] = {}
    #: Classes (and ``total``) checked per block; the park and the rings are checked on all.
    block_classes: list[Literal["expressway", "arterial", "secondary", "local", "total"]] = [
        "arterial", "secondary", "local", "total"]
    #: Least density of the four urban classes together, km/km² (GB/T 51328-2018).
    total_density_min_km_per_km2: Annotated[float, Field(ge=0)] = 0
    #: The same per ring where it differs (e.g. ``core: 8``).
    total_density_min_by_ring: dict[str, Annotated[float, Field(ge=0)]] = {}

    @field_validator("road_density_km_per_km2")
    @classmethod
    def _bands(cls, bands: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        wrong = [name for name, (low, high) in bands.items() if low > high]
        if wrong:
            raise ValueError(_("each band is [low, high] with low ≤ high; not so for {classes}").format(
                classes=", ".join(wrong)))
        return bands


class Chains(_Strict):
    """Industrial chains (产业链): each chain's stages in order and the industries or segments of each.

    ``chains``: chain → stage → the industries or segments (细分领域) that *are* that stage, stages
    upstream first. ``sectors``: chain → industries or segments that put a firm on the chain
    without naming its stage (the chain's own name always does); such a firm's stage follows its
    parcel's land use: the first stage on ``rd_land_uses``, the last elsewhere.
    """

    chains: dict[str, dict[str, list[str]]] = {}
    sectors: dict[str, list[str]] = {}
    rd_land_uses: list[str] = ["C65"]
    leader_top_n: Annotated[int, Field(ge=0)] = 1
    complementarity_weight: Annotated[float, Field(ge=0, le=1)] = 0.5
    distance_scale_min: PositiveFloat = 15

    @model_validator(mode="after")
    def _one_stage_per_key(self) -> Chains:
        for chain, stages in self.chains.items():
            if not stages:
                raise ValueError(_("chain `{chain}` has no stage; list its stages in order, upstream first").format(chain=chain))
            seen: dict[str, str] = {}
            for stage, keys in stages.items():
                for key in keys:
                    if key in seen:
                        raise ValueError(_("chain `{chain}` lists `{key}` under both `{first}` and `{second}`; a segment names one stage").format(
                            chain=chain, key=key, first=seen[key], second=stage))
                    seen[key] = stage
        unknown = sorted(set(self.sectors) - set(self.chains))
        if unknown:
            raise ValueError(_("sectors names {unknown}, which are not chains of `chains`: {chains}").format(
                unknown=unknown, chains=", ".join(self.chains)))
        return self


class Kpis(_Strict):
    """The plan's 2026 targets (行动方案, 主要目标) and the park-level figures no parcel carries."""

    targets: dict[str, float] = {}
    target_year: int = 2026
    leading_industries: list[str] = []
    strategic_emerging_industries: list[str] = []
    park_figures: dict[str, float] = {}


class Surfaces(_Strict):
    """Raster surfaces written by an assessment (cloud-optimised GeoTIFFs and map overlays)."""

    score_resolution_m: PositiveFloat = 20
    density_resolution_m: PositiveFloat = 100
    density_bandwidth_m: PositiveFloat = 500
    storey_height_m: PositiveFloat = 3.5


class MapConfig(_Strict):
    """Interactive map defaults."""

    lang: Literal["zh", "en"] = "zh"
    basemap: Literal["none", "osm", "amap", "tianditu"] = "none"
    tianditu_key: str | None = None
    coordinate_decimals: Literal["auto"] | Annotated[int, Field(ge=4, le=8)] = "auto"
    simplify_m: float = Field(default=0.5, ge=0)
    compress: Literal["auto", "always", "never"] = "auto"


class Project(_Strict):
    """A validated landkit project configuration."""

    version: Literal[1] = 1
    name: str = "landkit"
    year: Annotated[int, Field(ge=1900, le=2200)] | None = None
    crs: CRSConfig
    inputs: Inputs = Inputs()
    columns: Columns
    values: Values
    validation: ValidationRules
    assessment: Assessment
    valuation: Valuation
    block_assessment: BlockAssessment
    inventory: Inventory
    disposal: Disposal
    rings: Rings
    scatter: Scatter
    block_adjustment: BlockAdjustment = BlockAdjustment()
    robustness: Robustness = Robustness()
    assembly: Assembly = Assembly()
    conversion: Conversion = Conversion()
    vertical: VerticalFactory = VerticalFactory()
    services: Services = Services()
    chains: Chains = Chains()
    kpis: Kpis = Kpis()
    surfaces: Surfaces = Surfaces()
    map: MapConfig = MapConfig()
    base_dir: str = "."
    #: Canonical columns the project file maps explicitly (absent ones are then errors).
    explicit_columns: dict[str, list[str]] = {}

    def resolve(self, path: str) -> Path:
        """Return ``path`` resolved against the directory of the project file."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else Path(self.base_dir) / p


def unit_of(spec: ColumnSpec, canonical: str) -> float:
    """Return the factor converting a mapped column into its canonical unit (1 if none given)."""
    if spec.unit is None or dimension_of(canonical) is None:
        return 1.0
    return unit_factor(canonical, spec.unit)
