"""商办→研发 (plan item 13) on hand-made parcels whose answers are worked out by hand.

Parcels are 100 m × 100 m squares (10,000 m² = 15 亩) in the working CRS, 200 m apart. The default
profile's rules: commercial and office land (B1, B2, B29, C2, C8) is a candidate for C65 when it lies
in a conversion zone (blocks MH09, MH10 or the town 莘庄工业区) or in the core or spillover ring, and
is under-used: vacancy ≥ 0.3, FAR < 1.5 (not under construction) or tax < 10 万元/亩.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import WORKING, X0, Y0

from landkit.analyses.conversion import conversion_candidates, conversion_summary
from landkit.config.load import load_config
from landkit.config.models import Rule
from landkit.core.errors import ConfigError

ROWS = [
    # pid, land use, block, town, ring, status, vacancy, floor (m²), far, tax per 亩
    ("Z_VACANT", "B2", "MH09", "莘庄镇", "linkage", "operating", 0.3, 20_000.0, np.nan, 30.0),    # vacancy at the limit
    ("Z_LOW_FAR", "C8", "MH10", "莘庄镇", "linkage", "operating", 0.1, 14_990.0, np.nan, 30.0),   # FAR 1.499
    ("Z_FAR_1.5", "C8", "MH10", "莘庄镇", "linkage", "operating", 0.1, 15_000.0, np.nan, 30.0),   # FAR 1.5: not low
    ("Z_BUILDING", "C2", "MH09", "莘庄镇", "linkage", "construction", np.nan, 0.0, np.nan, np.nan),  # FAR 0 while being built
    ("SPILL_TAX", "B1", "MH04", "浦锦街道", "spillover", "operating", np.nan, 30_000.0, np.nan, 5.0),
    ("LINK_VACANT", "B29", "MH15", "吴泾镇", "linkage", "operating", 0.6, 30_000.0, np.nan, 30.0),  # under-used, wrong place
    ("TOWN", "C2", None, "莘庄工业区", None, "operating", 0.5, np.nan, 1.2, 30.0),                # no floor figure: FAR × area
    ("FACTORY", "M1", "MH09", "莘庄镇", "linkage", "stopped", 0.9, 1_000.0, np.nan, 1.0),          # not commercial land
]
COLUMNS = ["parcel_id", "land_use", "block_id", "town", "ring", "status", "vacancy_rate", "floor_area_m2", "far", "tax_per_mu"]

#: By hand: the flags that hold on each commercial parcel.
EXPECTED = {
    "Z_VACANT": "IN_ZONE;VACANT",
    "Z_LOW_FAR": "IN_ZONE;LOW_FAR",
    "SPILL_TAX": "RING_FIT;LOW_TAX",
    "TOWN": "IN_ZONE;VACANT;LOW_FAR",
}


@pytest.fixture(scope="module")
def spec():
    return load_config().conversion


def parcels_of(rows=ROWS, columns=COLUMNS, *, index: pd.Index | None = None) -> gpd.GeoDataFrame:
    geoms = [shapely.box(X0 + 200 * i, Y0, X0 + 200 * i + 100, Y0 + 100) for i in range(len(rows))]
    frame = gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry=geoms, crs=WORKING)
    frame["area_m2"] = shapely.area(frame.geometry.to_numpy())
    frame["area_mu"] = frame["area_m2"] * 15 / 10_000
    if index is not None:
        frame.index = index
    return frame


def run(spec, parcels=None) -> pd.DataFrame:
    parcels = parcels_of() if parcels is None else parcels
    out = conversion_candidates(parcels, spec)
    assert out.index.equals(parcels.index)
    out.index = parcels["parcel_id"].tolist()
    return out


def test_defaults_follow_the_plan(spec):
    assert spec.zones == ["MH09", "MH10"] and spec.towns == ["莘庄工业区"]   # 莘庄工业区 (plan item 13), 莘庄商务区
    assert spec.target_use == "C65" and set(spec.land_uses) == {"B1", "B2", "B29", "C2", "C8"}
    assert spec.params["rd_rings"] == ["core", "spillover"]


def test_candidates_and_their_reasons_by_hand(spec):
    out = run(spec)
    assert list(out.index[out["conversion_candidate"]]) == list(EXPECTED)
    assert out["conversion_reasons"][list(EXPECTED)].to_dict() == EXPECTED
    # the flags that hold on parcels that are not candidates: a place without a need, or a need without a place
    assert out.loc["Z_FAR_1.5", ["cv_IN_ZONE", "cv_LOW_FAR"]].tolist() == [True, False]
    assert out.loc["Z_BUILDING", ["cv_IN_ZONE", "cv_LOW_FAR", "cv_VACANT", "cv_LOW_TAX"]].tolist() == [True, False, False, False]
    assert out.loc["LINK_VACANT", ["cv_IN_ZONE", "cv_RING_FIT", "cv_VACANT"]].tolist() == [False, False, True]
    assert (out.loc[~out["conversion_candidate"], ["conversion_reasons", "conversion_reasons_zh", "conversion_target_use"]] == "").all().all()


def test_industrial_land_is_never_flagged(spec):
    out = run(spec)
    flags = [c for c in out.columns if c.startswith("cv_")]
    assert not out.loc["FACTORY", flags].any() and not out.loc["FACTORY", "conversion_candidate"]


def test_reason_texts_and_target_use(spec):
    out = run(spec)
    assert out.loc["SPILL_TAX", "conversion_reasons_zh"] == "位于核心功能圈或溢出辐射圈(研发功能适配)；亩均税收低"
    assert out.loc["Z_VACANT", "conversion_reasons_en"] == "In a conversion zone (莘庄工业区 …); High vacancy"
    assert set(out.loc[out["conversion_candidate"], "conversion_target_use"]) == {"C65"}
    m4 = run(spec.model_copy(update={"target_use": "M4"}))
    assert set(m4.loc[m4["conversion_candidate"], "conversion_target_use"]) == {"M4"}


def test_floor_area_offered_to_rd(spec):
    out = run(spec)
    offered = out["conversion_floor_area_m2"]
    # the buildings' floor area; TOWN has none: FAR 1.2 × 10,000 m²
    assert offered[list(EXPECTED)].tolist() == pytest.approx([20_000, 14_990, 30_000, 12_000])
    assert offered.drop(list(EXPECTED)).isna().all()


def test_without_a_ring_column_the_ring_reason_reads_false(spec):
    parcels = parcels_of().drop(columns=["ring"])
    out = run(spec, parcels)
    assert not out["cv_RING_FIT"].any()
    assert list(out.index[out["conversion_candidate"]]) == ["Z_VACANT", "Z_LOW_FAR", "TOWN"]   # SPILL_TAX had only its ring


def test_far_comes_from_floor_area_when_the_data_have_none(spec):
    parcels = parcels_of().drop(columns=["far"])   # TOWN now has neither FAR nor floor area
    out = run(spec, parcels)
    assert out.loc["Z_LOW_FAR", "cv_LOW_FAR"] and not out.loc["Z_FAR_1.5", "cv_LOW_FAR"]
    assert out.loc["TOWN", "conversion_reasons"] == "IN_ZONE;VACANT" and np.isnan(out.loc["TOWN", "conversion_floor_area_m2"])


def test_candidate_rule_may_read_parcel_columns(spec):
    big = spec.model_copy(update={"candidate_when": "cv_IN_ZONE and area_mu >= 20"})
    rows = [ROWS[0], ROWS[1]]
    parcels = parcels_of(rows)
    parcels.loc[1, "geometry"] = shapely.box(X0 + 200, Y0, X0 + 400, Y0 + 100)   # 200 × 100 m: 30 亩
    parcels["area_m2"] = shapely.area(parcels.geometry.to_numpy())
    parcels["area_mu"] = parcels["area_m2"] * 15 / 10_000
    out = run(big, parcels)
    assert out["conversion_candidate"].tolist() == [False, True]


def test_zones_and_towns_are_configurable(spec):
    moved = spec.model_copy(update={"zones": ["MH15"], "towns": []})
    out = run(moved)
    assert out.loc["LINK_VACANT", "conversion_reasons"] == "IN_ZONE;VACANT"
    assert not out.loc["TOWN", "cv_IN_ZONE"] and not out.loc["Z_VACANT", "conversion_candidate"]


@pytest.mark.parametrize("index", [None, pd.Index([f"k{i}" for i in range(len(ROWS))]), pd.Index(range(len(ROWS), 0, -1))],
                         ids=["range", "text", "reversed"])
def test_output_is_aligned_to_any_index(spec, index):
    parcels = parcels_of(index=index)
    out = conversion_candidates(parcels, spec)
    assert out.index.equals(parcels.index)
    joined = parcels.join(out)
    got = dict(zip(joined["parcel_id"], joined["conversion_reasons"], strict=True))
    assert {k: v for k, v in got.items() if v} == EXPECTED


def test_summary_per_block(spec):
    parcels = parcels_of()
    table = conversion_summary(parcels.join(conversion_candidates(parcels, spec)))
    by_block = table.set_index("block_id")
    assert by_block["parcels"].to_dict() == {"MH09": 1, "MH10": 1, "MH04": 1, "区块外": 1}
    assert by_block["area_mu"].tolist() == pytest.approx([15, 15, 15, 15])
    assert by_block.loc["MH04", "conversion_floor_area_m2"] == pytest.approx(30_000)


# --- errors that name the key -----------------------------------------------------------------------------


def test_reason_on_an_unknown_column_names_its_key(spec):
    bad = spec.model_copy(update={"reasons": [Rule(code="BAD", label_zh="坏", label_en="bad", when="occupancy < 0.5")]})
    with pytest.raises(ConfigError, match=r"conversion\.reasons\[0\] \(BAD\).*occupancy"):
        run(bad)


def test_reason_with_an_unknown_parameter_is_refused(spec):
    bad = spec.model_copy(update={"reasons": [Rule(code="BAD", label_zh="坏", label_en="bad", when="vacancy_rate > @nope")]})
    with pytest.raises(ConfigError, match=r"nope"):
        run(bad)


def test_candidate_rule_outside_the_language_or_on_unknown_flags(spec):
    for when in ("cv_VACANT and __import__('os')", "cv_NOSUCH"):
        with pytest.raises(ConfigError, match=r"conversion\.candidate_when"):
            run(spec.model_copy(update={"candidate_when": when}))


def test_duplicate_reason_codes_are_refused_on_load(tmp_path: Path):
    path = tmp_path / "landkit.yaml"
    path.write_text("conversion:\n  reasons:\n"
                    "    - {code: A, label_zh: 甲, label_en: a, when: 'vacancy_rate > 0.5'}\n"
                    "    - {code: A, label_zh: 乙, label_en: b, when: 'far < 1'}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"conversion\.reasons.*unique"):
        load_config(path)
