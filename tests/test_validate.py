"""Checks and repairs: geometry, ids, overlaps, values, enterprises, and load_dataset's strictness."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from landkit.core.errors import DataError
from landkit.data.dataset import load_dataset
from landkit.data.validate import (
    check_enterprises,
    check_geometry,
    check_ids,
    check_overlaps,
    check_parcel_values,
    fix_geometry,
)

X0, Y0 = 500_000.0, 3_430_000.0


def box(x1, y1, x2, y2):
    return shapely.box(X0 + x1, Y0 + y1, X0 + x2, Y0 + y2)


def bow_tie(x=0.0, y=0.0, size=20.0):
    """A figure-eight ring crossing itself at its centre: two triangles of size²/4 each."""
    return shapely.Polygon(
        [(X0 + x, Y0 + y), (X0 + x + size, Y0 + y + size), (X0 + x + size, Y0 + y), (X0 + x, Y0 + y + size)]
    )


def layer(ids, geoms, crs, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"parcel_id": ids, **columns}, geometry=list(geoms), crs=crs)


def keyed(issues):
    return sorted((i.severity, i.check, i.feature) for i in issues)


# --- geometry ----------------------------------------------------------------------------------


def test_bow_tie_is_reported_with_geos_reason_and_id(working_crs):
    gdf = layer(["OK", "BOW"], [box(0, 0, 50, 50), bow_tie(100, 0, 20)], working_crs)
    issues = check_geometry(gdf, kind="parcels", id_col="parcel_id")
    assert len(issues) == 1
    issue = issues[0]
    assert (issue.severity, issue.check, issue.feature) == ("error", "invalid_geometry", "BOW")
    # the ring crosses itself at its centre, (x0 + 110, y0 + 10)
    assert re.search(r"Self-intersection\[500110 3430010\]", issue.message), issue.message
    assert "BOW" in issue.line()


def test_empty_and_missing_geometry(working_crs):
    gdf = layer(["E", "OK", "N"], [shapely.Polygon(), box(0, 0, 10, 10), None], working_crs)
    issues = check_geometry(gdf, kind="parcels", id_col="parcel_id")
    assert keyed(issues) == [("error", "empty_geometry", "E"), ("error", "empty_geometry", "N")]


def test_wrong_geometry_type(working_crs):
    gdf = layer(["PT", "OK"], [shapely.Point(X0, Y0), box(0, 0, 10, 10)], working_crs)
    issues = check_geometry(gdf, kind="parcels", id_col="parcel_id")
    assert keyed(issues) == [("error", "geometry_type", "PT")]
    assert "Point" in issues[0].message


def test_valid_shapes_have_no_issues(parcels):
    assert check_geometry(parcels, kind="parcels", id_col="parcel_id") == []


# --- ids ---------------------------------------------------------------------------------------


def test_duplicate_ids_are_counted():
    frame = pd.DataFrame({"parcel_id": ["P1", "P2", "P1", "P3", "P1", "P2", None]})
    issues = check_ids(frame, kind="parcels", id_col="parcel_id")
    by_feature = {i.feature: i for i in issues}
    assert keyed(issues) == [
        ("error", "duplicate_id", "P1"), ("error", "duplicate_id", "P2"), ("error", "missing_id", "row 7")
    ]
    assert "3 times" in by_feature["P1"].message
    assert "2 times" in by_feature["P2"].message


# --- overlaps ----------------------------------------------------------------------------------


def _overlap_area(issue) -> float:
    return float(re.search(r"by ([\d,]+\.\d) m²", issue.message).group(1).replace(",", ""))


def test_overlap_of_known_area_is_reported(working_crs):
    gdf = layer(
        ["A", "B", "C"],
        [box(0, 0, 100, 50), box(99, 0, 199, 50), box(199, 0, 250, 50)],  # A∩B = 1 × 50 m; C touches B
        working_crs,
    )
    issues = check_overlaps(gdf, tolerance_m2=1.0)
    assert len(issues) == 1
    issue = issues[0]
    assert (issue.check, issue.feature) == ("overlap", "A")
    assert "B" in issue.message
    assert _overlap_area(issue) == pytest.approx(50.0, abs=0.05)


def test_overlap_within_tolerance_is_not_reported(working_crs):
    gdf = layer(["A", "B"], [box(0, 0, 100, 50), box(99, 0, 199, 50)], working_crs)  # 50 m²
    assert check_overlaps(gdf, tolerance_m2=50.0) == []
    assert len(check_overlaps(gdf, tolerance_m2=49.9)) == 1


def test_touching_parcels_are_not_reported(parcels, working_crs):
    gdf = layer(["A", "B", "C"], [box(0, 0, 100, 50), box(100, 0, 200, 50), box(0, 50, 100, 80)], working_crs)
    assert check_overlaps(gdf, tolerance_m2=1.0) == []
    assert check_overlaps(parcels, tolerance_m2=1.0) == []


def test_parcel_inside_another_listed_after_it_is_reported(working_crs):
    gdf = layer(["OUTER", "INNER"], [box(0, 0, 100, 100), box(10, 10, 30, 20)], working_crs)
    issues = check_overlaps(gdf, tolerance_m2=1.0)
    assert [(i.feature, _overlap_area(i)) for i in issues] == [("OUTER", pytest.approx(200.0))]
    assert "INNER" in issues[0].message


def test_parcel_inside_another_listed_before_it_is_reported(working_crs):
    gdf = layer(["INNER", "OUTER"], [box(10, 10, 30, 20), box(0, 0, 100, 100)], working_crs)
    issues = check_overlaps(gdf, tolerance_m2=1.0)
    assert len(issues) == 1
    assert {issues[0].feature, issues[0].message.split()[2]} == {"INNER", "OUTER"}
    assert _overlap_area(issues[0]) == pytest.approx(200.0)


def test_identical_parcels_are_reported_once(working_crs):
    gdf = layer(["A", "B"], [box(0, 0, 40, 40), box(0, 0, 40, 40)], working_crs)
    issues = check_overlaps(gdf, tolerance_m2=1.0)
    assert [(i.feature, _overlap_area(i)) for i in issues] == [("A", pytest.approx(1600.0))]


def test_invalid_parcels_are_left_to_check_geometry(working_crs):
    gdf = layer(["BOW", "A"], [bow_tie(0, 0, 20), box(0, 0, 20, 20)], working_crs)
    assert check_overlaps(gdf, tolerance_m2=1.0) == []


def _random_polygons(n: int, seed: int) -> list[shapely.Polygon]:
    """Star-shaped polygons (7–14 vertices), some with holes, some nested in others, some abutting."""
    rng = np.random.default_rng(seed)
    polygons = []
    while len(polygons) < n:
        cx, cy = X0 + rng.uniform(0, 3000), Y0 + rng.uniform(0, 3000)
        k = int(rng.integers(7, 15))
        angles = np.sort(rng.uniform(0, 2 * np.pi, k))
        r_min = rng.uniform(20, 120)
        radii = rng.uniform(r_min, 2 * r_min, k)
        shell = np.column_stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)])
        holes = []
        if rng.random() < 0.2:  # a hole well inside the kernel of the star
            holes = [shapely.Point(cx, cy).buffer(0.3 * r_min, 8).exterior.coords]
        poly = shapely.Polygon(shell, holes)
        if not poly.is_valid:
            continue
        polygons.append(poly)
        if rng.random() < 0.15:  # a small parcel wholly inside this one (off its hole)
            dx = 0.6 * r_min
            polygons.append(shapely.box(cx + dx - 4, cy - 4, cx + dx + 4, cy + 4))
        if rng.random() < 0.1:  # a rectangle abutting this parcel's bounding box: touching or overlapping
            _xmin, ymin, xmax, ymax = poly.bounds
            polygons.append(shapely.box(xmax - rng.choice([0.0, 2.0]), ymin, xmax + 60, ymax))
    return polygons[:n]


def _brute_force_pairs(geoms: np.ndarray, tol: float) -> dict[tuple[int, int], float]:
    i, j = np.triu_indices(len(geoms), k=1)
    area = shapely.area(shapely.intersection(geoms[i], geoms[j]))
    hit = area > tol
    return {(int(a), int(b)): float(ar) for a, b, ar in zip(i[hit], j[hit], area[hit], strict=True)}


def _reported_pairs(issues, ids: list[str]) -> dict[tuple[int, int], float]:
    position = {pid: k for k, pid in enumerate(ids)}
    out = {}
    for issue in issues:
        other = re.search(r"overlaps parcel (\S+) by", issue.message).group(1)
        a, b = sorted((position[issue.feature], position[other]))
        assert (a, b) not in out, f"pair {(a, b)} reported twice"
        out[(a, b)] = _overlap_area(issue)
    return out


def _compare_with_brute_force(polygons, working_crs, tol=1.0):
    ids = [f"R{k:03d}" for k in range(len(polygons))]
    gdf = layer(ids, polygons, working_crs)
    assert shapely.is_valid(gdf.geometry.values).all()
    expected = _brute_force_pairs(gdf.geometry.values, tol)
    got = _reported_pairs(check_overlaps(gdf, tolerance_m2=tol), ids)
    assert len(expected) > 50  # the sample does exercise the check
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    assert not missing and not extra, f"missed {missing[:10]}, spurious {extra[:10]}"
    for pair, area in expected.items():
        assert got[pair] == pytest.approx(area, abs=0.05)  # messages round to 0.1 m²


def test_overlaps_match_brute_force_largest_first(working_crs):
    polygons = _random_polygons(300, seed=20250)
    polygons.sort(key=lambda p: -p.area)  # every container precedes what it contains
    _compare_with_brute_force(polygons, working_crs)


def test_overlaps_match_brute_force_any_order(working_crs):
    polygons = _random_polygons(300, seed=20250)
    polygons.sort(key=lambda p: p.area)  # every container follows what it contains
    _compare_with_brute_force(polygons, working_crs)


# --- values ------------------------------------------------------------------------------------


def test_negative_floor_area_and_lease_out_of_order():
    frame = pd.DataFrame(
        {
            "parcel_id": ["OK", "NEG", "LEASE", "NOYEAR"],
            "floor_area_m2": [8000.0, -100.0, 500.0, np.nan],
            "lease_start_year": pd.array([2005, 2005, 2050, 2010], dtype="Int64"),
            "lease_end_year": pd.array([2055, 2055, 2010, pd.NA], dtype="Int64"),
        }
    )
    issues = check_parcel_values(frame, sliver_area_m2=1.0)
    assert keyed(issues) == [("error", "lease_years", "LEASE"), ("error", "negative", "NEG")]
    negative = next(i for i in issues if i.check == "negative")
    assert "floor_area_m2" in negative.message and "-100" in negative.message


def test_slivers_and_implausible_ratios_are_warnings(working_crs):
    frame = gpd.GeoDataFrame(
        {
            "parcel_id": ["OK", "SLIVER", "COVER", "FLOOR", "BOW"],
            "area_m2": [1000.0, 0.5, 1000.0, 1000.0, 0.0],  # as add_areas gives them (a bow-tie measures 0)
            "footprint_m2": [400.0, np.nan, 1500.0, 600.0, np.nan],
            "floor_area_m2": [800.0, np.nan, 3000.0, 300.0, np.nan],
        },
        geometry=[box(0, 0, 40, 25), box(100, 0, 101, 0.5), box(200, 0, 240, 25), box(300, 0, 340, 25), bow_tie(400)],
        crs=working_crs,
    )
    issues = check_parcel_values(frame, sliver_area_m2=1.0)
    # the bow-tie is invalid (reported by check_geometry), so its 0 m² is no sliver
    assert keyed(issues) == [
        ("warning", "coverage", "COVER"), ("warning", "floor_area", "FLOOR"), ("warning", "sliver", "SLIVER")
    ]


# --- enterprises -------------------------------------------------------------------------------


def test_some_unmatched_enterprises_are_warnings():
    enterprises = pd.DataFrame(
        {"enterprise_id": ["E1", "E2", "E3"], "parcel_id": ["P1", "PX", "P2；PY"], "tax_wan": [1.0, 2.0, 3.0]}
    )
    issues = check_enterprises(enterprises, pd.Index(["P1", "P2"]))
    assert keyed(issues) == [("warning", "unmatched", "E2"), ("warning", "unmatched", "E3")]
    assert "PX" in next(i for i in issues if i.feature == "E2").message


def test_all_unmatched_enterprises_are_one_error():
    enterprises = pd.DataFrame({"enterprise_id": ["E1", "E2", "E3"], "parcel_id": ["X1", "X2", "X3"]})
    issues = check_enterprises(enterprises, pd.Index(["P1", "P2"]))
    assert len(issues) == 1
    assert (issues[0].severity, issues[0].check) == ("error", "no_match")
    assert "X1" in issues[0].message and "columns.enterprises.parcel_id" in issues[0].message


def test_enterprises_with_blank_parcel_ids_are_one_error_not_a_crash(project):
    from landkit.io.read import canonical_columns

    raw = pd.DataFrame({"企业编号": ["E1", "E2"], "地块编号": ["", " "]})  # the id column mapped to an empty one
    enterprises = canonical_columns(raw, kind="enterprises", project=project, name="e.csv").frame
    issues = check_enterprises(enterprises, pd.Index(["P1", "P2"]))
    assert [(i.severity, i.check) for i in issues] == [("error", "no_match")]


def test_enterprise_duplicates_and_negative_figures():
    enterprises = pd.DataFrame(
        {"enterprise_id": ["E1", "E1", "E2", "E3"], "parcel_id": ["P1", "P1", "P2", "P2"],
         "tax_wan": [1.0, 2.0, -3.0, 1.0], "employees": [1.0, 1.0, 1.0, -2.0]}
    )
    issues = check_enterprises(enterprises, pd.Index(["P1", "P2"]))
    # a negative tax (a refund) is kept with a warning; negative employees are an error
    assert sorted(keyed(issues)) == [("error", "duplicate_id", "E1"), ("error", "negative", "E3"), ("warning", "negative", "E2")]


# --- repairs -----------------------------------------------------------------------------------


def test_fix_geometry_repairs_bow_tie_and_drops_empty(working_crs):
    gdf = layer(["OK", "BOW", "EMPTY", "HOLED"], [
        box(0, 0, 50, 50),
        bow_tie(100, 0, 20),  # two triangles of 20 × 10 / 2 = 100 m² each
        shapely.Polygon(),
        shapely.Polygon(box(200, 0, 240, 40).exterior.coords, [box(210, 10, 220, 30).exterior.coords]),
    ], working_crs)
    fixed, changes = fix_geometry(gdf)
    assert fixed["parcel_id"].tolist() == ["OK", "BOW", "HOLED"]
    bow = fixed.set_index("parcel_id").geometry["BOW"]
    assert bow.is_valid and bow.geom_type in ("Polygon", "MultiPolygon")
    assert bow.area == pytest.approx(200.0)
    assert len(shapely.get_parts(bow)) == 2
    left = shapely.Polygon([(X0 + 100, Y0), (X0 + 110, Y0 + 10), (X0 + 100, Y0 + 20)])  # west of the crossing
    right = shapely.Polygon([(X0 + 120, Y0), (X0 + 110, Y0 + 10), (X0 + 120, Y0 + 20)])  # east of it
    assert bow.equals(shapely.MultiPolygon([left, right]))
    untouched = fixed.set_index("parcel_id").geometry
    assert untouched["OK"].equals(box(0, 0, 50, 50)) and untouched["HOLED"].area == pytest.approx(1400.0)
    assert len(changes) == 2
    assert "row 2" in changes[0] and "Self-intersection" in changes[0]
    assert "row 3" in changes[1] and "empty" in changes[1]
    assert fixed.crs == gdf.crs
    assert check_geometry(fixed, kind="parcels", id_col="parcel_id") == []


def test_fix_geometry_leaves_a_valid_layer_alone(parcels):
    fixed, changes = fix_geometry(parcels)
    assert changes == []
    assert fixed.geometry.equals(parcels.geometry)


# --- load_dataset ------------------------------------------------------------------------------


@pytest.fixture
def faulty_project(tmp_path, make_project, working_crs):
    """Parcels with four errors (P02 bow-tie, P03/P04 overlap 50 m², P05 negative floor area, P06 lease
    years reversed) and enterprises with one unmatched parcel id (a warning)."""
    gdf = gpd.GeoDataFrame(
        {
            "地块编号": ["P01", "P02", "P03", "P04", "P05", "P06"],
            "用地性质": ["M1"] * 6,
            "建筑面积": [8000.0, 100.0, 5000.0, 5000.0, -100.0, 2500.0],
            "出让年份": [2005, 2005, 2005, 2005, 2005, 2050],
            "到期年份": [2055, 2055, 2055, 2055, 2055, 2010],
        },
        geometry=[
            box(0, 0, 100, 50), bow_tie(200, 0, 20), box(300, 0, 400, 50), box(399, 0, 499, 50),
            box(600, 0, 650, 50), box(700, 0, 750, 50),
        ],
        crs=working_crs,
    )
    enterprises = pd.DataFrame(
        {"企业编号": ["E1", "E2", "E3"], "地块编号": ["P01", "P01", "P99"], "税收(万元)": ["30", "12.5", "7"]}
    )
    return make_project(tmp_path, parcels=gdf, enterprises=enterprises)


def test_load_dataset_strict_raises_one_line_naming_the_first_problem(faulty_project):
    with pytest.raises(DataError) as err:
        load_dataset(faulty_project, strict=True)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("parcels P02: invalid geometry: Self-intersection")  # the CLI adds "Error: "
    assert "and 3 more" in msg
    assert "landkit validate" in msg


def test_load_dataset_lenient_returns_every_issue(faulty_project):
    data = load_dataset(faulty_project, strict=False)
    assert keyed(data.issues) == [
        ("error", "invalid_geometry", "P02"),
        ("error", "lease_years", "P06"),
        ("error", "negative", "P05"),
        ("error", "overlap", "P03"),
        ("warning", "unmatched", "E3"),
    ]
    assert len(data.errors) == 4
    overlap = next(i for i in data.issues if i.check == "overlap")
    assert "P04" in overlap.message and _overlap_area(overlap) == pytest.approx(50.0, abs=0.05)
    parcels = data.parcels.set_index("parcel_id")
    assert parcels.loc["P01", "area_m2"] == pytest.approx(5000.0)
    assert parcels.loc["P01", "tax_wan"] == pytest.approx(42.5)
    assert parcels.loc["P01", "enterprise_count"] == 2
    assert parcels.loc["P03", "enterprise_count"] == 0


def test_load_dataset_with_warnings_only_passes_strict(tmp_path, make_project, parcels):
    enterprises = pd.DataFrame({"企业编号": ["E1", "E2"], "地块编号": ["P1", "P404"]})
    data = load_dataset(make_project(tmp_path, parcels=parcels.drop(columns="expected_m2"), enterprises=enterprises))
    assert data.errors == []
    assert keyed(data.issues) == [("warning", "unmatched", "E2")]
    assert data.parcels["area_m2"].tolist() == pytest.approx(parcels["expected_m2"].tolist())
