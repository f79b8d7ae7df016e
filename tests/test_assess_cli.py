"""`landkit assess` and `landkit export` end to end: files written, reopened with GDAL and openpyxl."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import xml.etree.ElementTree as ET

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from openpyxl import load_workbook

from landkit.cli.main import cli
from landkit.config.load import load_config

WORKING = load_config().crs.working
NAMES = ["上海闵芯智能科技有限公司", "上海交大医疗机器人有限公司", "<img src=x onerror=alert(1)>", "闵行航天装备厂", "浦江基因治疗有限公司"]


@pytest.fixture
def project_dir(tmp_path):
    """Six parcels in one block (plus one outside), five enterprises, a price table."""
    geoms = [shapely.box(500_000 + 120 * i, 3_430_000, 500_100 + 120 * i, 3_430_080) for i in range(6)]
    geoms.append(shapely.box(510_000, 3_440_000, 510_040, 3_440_040))
    n = len(geoms)
    parcels = gpd.GeoDataFrame(
        {
            "地块编号": [f"MH-{i:03d}" for i in range(1, n + 1)],
            "用地性质": ["M1", "M1", "C65", "M2", "M1", "M1", "M1"],
            "土地状态": ["在产", "在产", "在产", "在产", "闲置", "在产", "在产"],
            "出让年份": [2005, 2006, 2010, 2001, 2015, 2008, 2003],
            "到期年份": [2055, 2056, 2060, 2051, 2035, 2058, 2053],
            "投产年份": [2007, 2008, 2012, 2003, None, 2010, 2005],
            "建筑面积": [12000.0, 6000.0, 20000.0, 3000.0, 0.0, 9000.0, 1500.0],
            "基底面积": [4000.0, 3000.0, 5000.0, 2000.0, 0.0, 3500.0, 900.0],
        },
        geometry=geoms,
        crs=WORKING,
    ).to_crs("EPSG:4490")
    parcels["投产年份"] = parcels["投产年份"].astype("Int64")
    pyogrio.write_dataframe(parcels, tmp_path / "parcels.gpkg", layer="parcels")
    blocks = gpd.GeoDataFrame({"区块编号": ["MH01"], "区块名称": ["大零号湾·交大片区"]},
                              geometry=[shapely.box(499_900, 3_429_900, 500_800, 3_430_200)], crs=WORKING)
    pyogrio.write_dataframe(blocks.to_crs("EPSG:4490"), tmp_path / "blocks.gpkg", layer="blocks")
    enterprises = pd.DataFrame(
        {
            "统一社会信用代码": [f"91310112000000000{i}" for i in range(5)],
            "企业名称": NAMES,
            "地块编号": ["MH-001", "MH-002；MH-006", "MH-003", "MH-004", "MH-007"],
            "行业": ["高端装备", "生物医药", "研发服务", "传统制造", "高端装备"],
            "税收(万元)": [800, 300, 900, 20, 50],
            "营业收入(万元)": [15000, 6000, 9000, 800, 1200],
            "工业增加值(万元)": [4000, 1500, 3000, 200, 300],
            "从业人员(人)": [300, 120, 200, 40, 30],
            "研发投入(万元)": [600, 500, 1500, 10, 40],
            "综合能耗(吨标准煤)": [2000, 500, 300, 400, 100],
            "用电量(万千瓦时)": [1000, 250, 150, 200, 50],
            "排放当量(吨)": [4.0, 1.0, 0.5, 2.0, 0.4],
            "高新技术企业": ["是", "是", "是", "否", "否"],
            "成立年份": [2005, 2006, 2010, 2001, 2003],
        }
    )
    enterprises.to_csv(tmp_path / "enterprises.csv", index=False, encoding="gbk")
    pd.DataFrame({"区块编号": ["MH01"], "基准地价(元/平方米)": [3000]}).to_csv(tmp_path / "price.csv", index=False, encoding="utf-8-sig")
    (tmp_path / "landkit.yaml").write_text(
        "year: 2025\ninputs:\n  parcels: {path: parcels.gpkg}\n  blocks: {path: blocks.gpkg}\n"
        "  enterprises: {path: enterprises.csv}\n  land_price: {path: price.csv}\n",
        encoding="utf-8",
    )
    return tmp_path


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def run_dir(project_dir):
    out = project_dir / "out"
    result = invoke("assess", "-c", project_dir / "landkit.yaml", "-o", out)
    assert result.exit_code == 0, result.output
    return out


def test_assess_writes_the_deliverables(run_dir):
    layers = {name for name, _ in pyogrio.list_layers(run_dir / "landkit.gpkg")}
    assert {"parcels", "inventory", "blocks", "by_grade", "by_path", "kpis", "layer_styles"} <= layers
    parcels = pyogrio.read_dataframe(run_dir / "landkit.gpkg", layer="parcels")
    assert {"parcel_id", "score", "grade", "low_efficiency", "reasons", "disposal"} <= set(parcels.columns)
    assert parcels.crs.to_epsg() == 4490  # written in the input CRS
    assert len(parcels) == 7
    inventory = pyogrio.read_dataframe(run_dir / "landkit.gpkg", layer="inventory")
    assert set(inventory["parcel_id"]) == set(parcels.loc[parcels["low_efficiency"].astype(bool), "parcel_id"])
    assert "MH-005" in set(inventory["parcel_id"])  # idle since its 2015 lease: 10 years
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["parcels"] == 7 and summary["inventory"]["parcels"] == len(inventory)
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert len(manifest["inputs"]["parcels"]["sha256"]) == 64 and manifest["config"]["year"] == 2025
    kpis = pyogrio.read_dataframe(run_dir / "landkit.gpkg", layer="kpis")
    rd = kpis.set_index("kpi").loc["rd_share", "actual"]
    assert rd == pytest.approx((600 + 500 + 1500 + 10 + 40) / (15000 + 6000 + 9000 + 800 + 1200))


def test_enterprise_spanning_two_parcels_is_shared_by_area(run_dir):
    parcels = pyogrio.read_dataframe(run_dir / "landkit.gpkg", layer="parcels").set_index("parcel_id")
    # MH-002 and MH-006 are equal 100 × 80 m boxes: 300 万元 of tax splits 150 / 150.
    assert parcels.loc["MH-002", "tax_wan"] == pytest.approx(150)
    assert parcels.loc["MH-006", "tax_wan"] == pytest.approx(150)


def test_assess_refuses_to_overwrite(run_dir, project_dir):
    before = (run_dir / "summary.json").read_bytes()
    result = invoke("assess", "-c", project_dir / "landkit.yaml", "-o", run_dir)
    assert result.exit_code == 1 and "--overwrite" in result.output
    assert (run_dir / "summary.json").read_bytes() == before
    assert invoke("assess", "-c", project_dir / "landkit.yaml", "-o", run_dir, "--overwrite").exit_code == 0


def test_qgis_styles_table(run_dir):
    with sqlite3.connect(run_dir / "landkit.gpkg") as db:
        rows = db.execute("SELECT f_table_name, styleName, styleQML, useAsDefault FROM layer_styles").fetchall()
        contents = {r[0] for r in db.execute("SELECT table_name FROM gpkg_contents")}
    assert {r[0] for r in rows} >= {"parcels", "inventory", "watchlist", "blocks"} and all(r[3] for r in rows)
    assert "layer_styles" in contents
    root = ET.fromstring(rows[0][2].split("\n", 1)[1])
    renderer = root.find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == "grade"
    assert [c.get("value") for c in renderer.iter("category")] == ["A", "B", "C", "D", "U"]


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
def test_shapefile_export_keeps_chinese_text(run_dir, tmp_path, encoding):
    shp = tmp_path / f"inv_{encoding}.shp"
    result = invoke("export", run_dir, "--layer", "parcels", "-o", shp, "--encoding", encoding)
    assert result.exit_code == 0, result.output
    assert shp.with_suffix(".cpg").read_text() == encoding.upper()
    dbf = shp.with_suffix(".dbf").read_bytes()
    for name in NAMES[:2]:
        assert name.encode(encoding) in dbf  # the bytes on disk, in the declared encoding
    back = pyogrio.read_dataframe(shp)
    assert all(len(c.encode(encoding)) <= 10 for c in back.columns if c != "geometry")
    fields = pd.read_csv(shp.with_name(shp.stem + "_fields.csv"), encoding="utf-8-sig")
    assert fields["field"].is_unique and set(back.columns) - {"geometry"} == set(fields["field"])
    label = fields.set_index("column").loc["tax_wan"]
    assert (label["label_zh"], label["unit"]) == ("税收", "万元")
    field = fields.set_index("column")["field"]  # GBK: Chinese field names (地块编号, 企业名称) by default
    names = back.set_index(field["parcel_id"])[field["enterprise_names"]]
    assert names["MH-001"] == NAMES[0]
    assert names["MH-003"] == NAMES[2]
    # GDAL's own command line reads the same text
    info = subprocess.run(["ogrinfo", "-ro", "-al", "-q", str(shp)], capture_output=True, check=True).stdout
    assert NAMES[0].encode("utf-8") in info  # ogrinfo recodes to UTF-8 via the .cpg


def test_excel_and_csv_exports(run_dir, tmp_path):
    book = load_workbook(run_dir / "inventory.xlsx")
    assert book.sheetnames[:3] == ["低效用地清单", "关注清单", "分级清单"]
    ws = book["分级清单"]
    headers = [c.value for c in ws[1]]
    assert "地块编号" in headers and "税收(万元)" in headers and "综合得分(分)" in headers
    assert ws.freeze_panes == "A2"
    col = headers.index("用地面积(亩)") + 1
    assert ws.cell(row=2, column=col).number_format == "#,##0.00"
    csv = tmp_path / "inv.csv"
    assert invoke("export", run_dir, "-o", csv, "--layer", "parcels").exit_code == 0
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(csv, encoding="utf-8-sig")
    assert NAMES[1] in set(table["企业名称"])
    xlsx = tmp_path / "inv.xlsx"
    assert invoke("export", run_dir, "-o", xlsx, "--lang", "en").exit_code == 0
    assert "Parcel id" in [c.value for c in load_workbook(xlsx).active[1]]


def test_export_errors(run_dir, tmp_path):
    result = invoke("export", run_dir, "--layer", "nope", "-o", tmp_path / "x.csv")
    assert result.exit_code == 1 and "no layer `nope`" in result.output
    result = invoke("export", run_dir, "-o", tmp_path / "x.pdf")
    assert result.exit_code == 1 and "unknown export format" in result.output


def test_map_command_redraws_a_run(run_dir, tmp_path):
    out = tmp_path / "m.html"
    result = invoke("map", run_dir, "-o", out, "--lang", "en")
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "Low-efficiency land" in page and not re.search(r'<(?:script|link)[^>]+(?:src|href)="https?://', page)
    assert "<img src=x" not in page  # the enterprise name is escaped inside the data block
    assert invoke("map", run_dir, "-o", out).exit_code == 1  # exists: --overwrite needed
    result = invoke("map", run_dir, "-o", tmp_path / "t.html", "--basemap", "tianditu")
    assert result.exit_code == 1 and "needs a key" in result.output
    assert (run_dir / "map.html").exists()  # assess writes the map too


def test_amap_basemap_shifts_every_overlay_to_gcj02(run_dir):
    import json as _json

    from landkit.core.gcj02 import wgs84_to_gcj02
    from landkit.deliver.webmap import build_map, layers_from_run

    project = load_config()
    layers = layers_from_run(run_dir / "landkit.gpkg")

    def first_vertex(html: str, dataset: str) -> tuple[float, float]:
        block = re.search(r'<script type="application/json" id="landkit-data">(.*?)</script>', html, re.S).group(1)
        data = _json.loads(block)
        scale = data["scale"]
        x, y = data["datasets"][dataset]["geom"]["c"][:2]
        return x / scale, y / scale

    plain = build_map(layers, project, basemap="none")
    amap = build_map(layers, project, basemap="amap")
    assert "autonavi" in amap and "autonavi" not in plain
    for dataset in ("parcels", "blocks"):
        lon, lat = first_vertex(plain, dataset)
        expected = wgs84_to_gcj02(lon, lat)
        shifted = first_vertex(amap, dataset)
        assert shifted == pytest.approx((float(expected[0]), float(expected[1])), abs=2e-6)
        assert abs(shifted[0] - lon) > 1e-3  # several hundred metres in Shanghai


def test_scatter_recomputes_the_list_paths_and_summary(project_dir, tmp_path):
    """`landkit scatter` rewrites `small`: the list's SMALL reasons, the inventory layer and
    summary.json follow (before the fix they kept the flags of the `assess` run)."""
    import json

    out = tmp_path / "run"
    assert invoke("assess", "-c", project_dir / "landkit.yaml", "-o", out).exit_code == 0
    before = pyogrio.read_dataframe(out / "landkit.gpkg", layer="parcels", read_geometry=False).set_index("parcel_id")
    assert before["small"].astype(bool).tolist() == [False] * 6 + [True]  # 12 亩 each; MH-007 is 1,600 m²
    config = project_dir / "big.yaml"
    config.write_text((project_dir / "landkit.yaml").read_text(encoding="utf-8") + "scatter:\n  small_plot_mu: {default: 1000}\n",
                      encoding="utf-8")
    result = invoke("scatter", out, "-c", config)
    assert result.exit_code == 0, result.output
    after = pyogrio.read_dataframe(out / "landkit.gpkg", layer="parcels", read_geometry=False).set_index("parcel_id")
    assert after["small"].astype(bool).all()
    listed = after[after["low_efficiency"].astype(bool)]
    assert len(listed) and listed["reasons"].str.contains("SMALL").all() and after["r_SMALL"].astype(bool).all()
    inventory = pyogrio.read_dataframe(out / "landkit.gpkg", layer="inventory", read_geometry=False)
    assert inventory["reasons"].str.contains("SMALL").all() and len(inventory) == len(listed)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["inventory"]["by_reason"]["SMALL"]["parcels"] == len(after)
    assert summary["inventory"]["parcels"] == len(listed)


def test_every_column_of_the_sample_workbook_has_a_label_and_coded_values_their_names():
    """The Chinese workbook shows no column by its code (indicator, unit, source, ratio_low …), and the
    summaries' codes (road classes, rings, benchmark sources, the facility furthest short) by their names."""
    from pathlib import Path

    from landkit.data.dataset import load_dataset
    from landkit.deliver.labels import table_labels, value_labels
    from landkit.deliver.sheets import workbook_sheets
    from landkit.pipeline import assess

    project = load_config(Path(__file__).resolve().parent.parent / "gis_data" / "minhang.yaml")
    data = load_dataset(project)
    sheets = workbook_sheets(project, assess(data, project))
    labels, values = table_labels(project), value_labels(project, "zh")
    shown_as_they_are = {"A", "B", "C", "D", "U", "geometry"}  # the classes by track; geometry is not written
    unlabelled = {name: [c for c in frame.columns if c not in labels and c not in shown_as_they_are]
                  for name, frame in sheets.items()}
    assert not {name: columns for name, columns in unlabelled.items() if columns}
    for sheet, column in (("道路网密度", "road_class"), ("链主企业", "ring"), ("评价基准", "source"),
                          ("公共服务短板区块", "worst_kind"), ("区块调整前后", "better"), ("公共服务可达", "group")):
        codes = set(sheets[sheet][column].dropna().astype(str)) - {""}
        named = codes & set(values[column])
        assert named and (codes - named <= {b for b in codes if b.startswith("MH")}), (sheet, column, codes - named)
    assert values["source"]["profile"] == "配置(指标默认值)" and values["road_class"]["arterial"] == "主干路"
    assert labels["ratio_low"].zh == "长度比下限" and labels["label_zh"].zh == "名称"
