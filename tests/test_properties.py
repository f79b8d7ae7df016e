"""Property tests: whatever a planner's layer and table hold, landkit answers with its own errors.

Hypothesis generates parcel layers (overlapping, slivers, empty or duplicate ids, odd land uses,
years and numbers as text, blanks, huge or negative values) and enterprise tables (ids that match
nothing, several ids in a cell, text in money columns). Each is read, validated and — when it
validates — assessed: the only exceptions allowed are landkit's own (one line for the user), never
a crash of numpy, pandas or shapely that the command line would show as "internal error".
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from landkit.config.load import load_config
from landkit.core.errors import LandkitError
from landkit.data.dataset import load_dataset
from landkit.pipeline import assess

X0, Y0 = 500_000.0, 3_430_000.0
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

texts = st.one_of(st.just(""), st.text(alphabet="MH0123456789-_ ；;、/,闲置在产停产在建未供应abcXYZ=+@", max_size=12))
numbers = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.integers(min_value=-10**20, max_value=10**20),
    st.sampled_from(["", "1,234", "１２", "abc", "1e400", "-0", "3.5万", "NaN", "inf"]),
)
years = st.one_of(st.none(), st.integers(min_value=-5, max_value=10**19), st.sampled_from(["", "2015", "2015-06-30", "二〇一五", "1e3"]))


@st.composite
def parcel_layers(draw) -> gpd.GeoDataFrame:
    n = draw(st.integers(min_value=0, max_value=8))
    rows, geoms = [], []
    for i in range(n):
        w = draw(st.floats(min_value=1e-3, max_value=300))
        h = draw(st.floats(min_value=1e-3, max_value=300))
        dx = draw(st.floats(min_value=0, max_value=800))
        dy = draw(st.floats(min_value=0, max_value=800))
        geoms.append(shapely.box(X0 + dx, Y0 + dy, X0 + dx + w, Y0 + dy + h))
        rows.append({
            "地块编号": draw(st.one_of(st.just(f"P{i}"), texts)),
            "用地性质": draw(st.sampled_from(["M1", "M2", "M3", "C65", "W1", "U", "", "X9"])),
            "土地状态": draw(st.sampled_from(["在产", "闲置", "停产", "在建", "未供应", "", "废弃"])),
            "出让年份": draw(years),
            "到期年份": draw(years),
            "投产年份": draw(years),
            "建筑面积": draw(numbers),
            "基底面积": draw(numbers),
            "建筑结构": draw(st.sampled_from([None, "钢混", "砖混", "简易", "茅草"])),
        })
    frame = pd.DataFrame(rows, columns=["地块编号", "用地性质", "土地状态", "出让年份", "到期年份", "投产年份", "建筑面积",
                                        "基底面积", "建筑结构"]).astype(object)
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=load_config().crs.working)


@st.composite
def enterprise_tables(draw, ids: list[str]) -> pd.DataFrame:
    n = draw(st.integers(min_value=0, max_value=6))
    pick = st.one_of(st.sampled_from(ids) if ids else st.just("P0"), texts,
                     st.just("；".join(ids[:2]) if len(ids) > 1 else "P0；P1"))
    rows = [{
        "统一社会信用代码": draw(st.one_of(st.just(f"E{i}"), texts)),
        "地块编号": draw(pick),
        "行业": draw(st.sampled_from(["高端装备", "生物医药", "", "医药制造业"])),
        "税收(万元)": draw(numbers), "营业收入(万元)": draw(numbers), "工业增加值(万元)": draw(numbers),
        "从业人员(人)": draw(numbers), "研发投入(万元)": draw(numbers), "综合能耗(吨标准煤)": draw(numbers),
        "用电量(万千瓦时)": draw(numbers), "排放当量(吨)": draw(numbers),
        "高新技术企业": draw(st.sampled_from(["是", "否", "", "maybe"])), "成立年份": draw(years),
    } for i in range(n)]
    columns = ["统一社会信用代码", "地块编号", "行业", "税收(万元)", "营业收入(万元)", "工业增加值(万元)", "从业人员(人)",
               "研发投入(万元)", "综合能耗(吨标准煤)", "用电量(万千瓦时)", "排放当量(吨)", "高新技术企业", "成立年份"]
    return pd.DataFrame(rows, columns=columns).astype(object)


def _cell(value):
    """A cell as a spreadsheet exported to CSV would hold it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


@SETTINGS
@given(data=st.data())
def test_read_validate_assess_never_crash(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("prop")
    parcels = data.draw(parcel_layers())
    enterprises = data.draw(enterprise_tables([str(i) for i in parcels["地块编号"]]))
    layer = parcels.copy()
    for column in layer.columns.drop("geometry"):
        layer[column] = layer[column].map(_cell).astype(str)  # as text: the loader parses the numbers
    layer.to_file(folder / "parcels.gpkg", layer="parcels", driver="GPKG")
    enterprises.map(_cell).to_csv(folder / "enterprises.csv", index=False, encoding="utf-8-sig")
    project = load_config(overrides={"year": 2025, "base_dir": str(folder), "inputs": {
        "parcels": {"path": "parcels.gpkg"}, "enterprises": {"path": "enterprises.csv"}}})
    try:
        dataset = load_dataset(project, strict=False)
        if not dataset.errors and len(dataset.parcels):
            result = assess(dataset, project)
            scores = result.parcels["score"].dropna()
            assert np.isfinite(scores).all() and scores.between(0, 100).all()
            assert set(result.parcels["grade"]) <= {"A", "B", "C", "D", "U"}
            listed = result.parcels[result.parcels["low_efficiency"]]
            assert (listed["grade"].isin(["C", "D"]) | listed["legally_idle"]).all()  # never A/B/U otherwise
    except LandkitError as exc:  # the user's mistake, said in one line
        assert "\n" not in str(exc)


@pytest.mark.parametrize("cell", ["9" * 25, "1e400", "-inf"])
def test_the_loader_names_absurd_numbers_instead_of_crashing(tmp_path, cell):
    layer = gpd.GeoDataFrame({"地块编号": ["P1"], "用地性质": ["M1"], "出让年份": [cell], "建筑面积": [cell]},
                             geometry=[shapely.box(X0, Y0, X0 + 100, Y0 + 100)], crs=load_config().crs.working)
    layer.to_file(tmp_path / "p.gpkg", layer="parcels")
    project = load_config(overrides={"base_dir": str(tmp_path), "inputs": {"parcels": {"path": "p.gpkg"}}})
    dataset = load_dataset(project, strict=False)
    lines = [i.line() for i in dataset.errors]
    assert any("出让年份" in line and "P1" in line for line in lines) and any("建筑面积" in line for line in lines)
