"""两评估、一清单、一盘活 on a hand-made park of 22 parcels, every answer worked out by hand.

The park (working CRS, offsets from X0, Y0 in metres; parcels 100 m × 100 m = 10,000 m² = 15 亩
unless stated; L5 is 100 m × 50 m = 5,000 m² = 7.5 亩)::

    y 360  S1(C65)  U1(U)   C1(在建)  N1(未供应) I0(idle, not due)      <- outside every price zone
    y 240  S6       T1      I1        I2          I3
    y 120  L5(½)    S2      S2b       S4          S5           | S7   <- S7, X1 outside block B1
    y   0  L1       L2      T3(edge)  L3          L4           | X1      and outside every zone
         x 0        120     240       360         480            620
                                 (T3: 250 … 350)

Block B1 = x −10 … 590, y −10 … 470 (every parcel but X1 and S7). Price zone I = x −50 … 300,
zone II = x 300 … 600, both y −50 … 350, in that layer order; T3's representative point
(x 300, y 50) lies on their shared edge, so it takes zone I. Parcels of column 240 (S2b, I1)
straddle the edge but their points (x 290) lie in zone I.

The profile (``OVERRIDES``): year 2025; track ``large`` (revenue ≥ 2000 万元) weights 亩均税收 60
(benchmark 60, cap 1.5) and 亩均增加值 40 (benchmark 100 for the track, cap 1.5), ranked with
shares A 20 %, B 40 %, C 20 %, D 20 %; track ``small`` (the rest) weights 亩均税收 50 (benchmark 10)
and 容积率 50 (benchmark 1.0), caps 1.5, shares 25 % each. Both tracks' maximum is 150 points,
so score = 100 × points / 150. Prices: I 工业 1500, 研发 3000; II 工业 1000, 研发 2000 元/m²;
district default 工业 800 (none for 研发); prices change 2 % a year since 2024 (date factor 1.02).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from conftest import WORKING, X0, Y0

from landkit.config.load import default_profile_text, load_config
from landkit.core.errors import ConfigError, DataError
from landkit.data.dataset import Dataset
from landkit.data.parcels import add_areas
from landkit.pipeline import assess, summarise, summary_tables

YEAR = 2025
NAN = np.nan

SHARES_SCORE_MIN = {"A": 85, "B": 70, "C": 50}
OVERRIDES = {
    "year": YEAR,
    "assessment": {
        "tracks": [
            {"name": "large", "label_zh": "规上", "label_en": "Large", "when": "revenue_wan >= 2000",
             "weights": {"tax_per_mu": 60, "value_added_per_mu": 40},
             "benchmarks": {"value_added_per_mu": 100},
             "grading": {"method": "rank", "rank_shares": {"A": 0.2, "B": 0.4, "C": 0.2, "D": 0.2},
                         "score_min": SHARES_SCORE_MIN}},
            {"name": "small", "label_zh": "规下", "label_en": "Small",
             "weights": {"tax_per_mu": 50, "far": 50},
             "benchmarks": {"tax_per_mu": 10, "far": 1.0},
             "grading": {"method": "rank", "rank_shares": {"A": 0.25, "B": 0.25, "C": 0.25, "D": 0.25},
                         "score_min": SHARES_SCORE_MIN}},
        ],
    },
    "valuation": {"price_change_per_year": 0.02, "district_default_yuan_m2": {"工业": 800}},
}

# id, x, y, w, h, land use, status, in B1, lease start, lease end, production start, agreed start,
# stopped since, floor m², footprint m², structure, illegal, firms, industry, tax 万元, revenue 万元,
# value added 万元, high-tech firms
ROWS = [
    ("L1", 0, 0, 100, 100, "M1", "operating", True, 2005, 2055, 2005, NAN, NAN, 16000, 5000, "钢混", False, 1, "高端装备", 1350, 5000, 2250, 1),
    ("L2", 120, 0, 100, 100, "M1", "operating", True, 2010, 2055, 2010, NAN, NAN, 11000, 4000, "砖混", False, 1, "集成电路", 900, 3000, 1500, 0),
    ("T3", 250, 0, 100, 100, "M1", "stopped", True, 1995, 2045, 2000, NAN, 2022, 10000, 5000, "钢混", False, 0, None, NAN, NAN, NAN, NAN),
    ("L3", 360, 0, 100, 100, "M1", "operating", True, 2005, 2045, 2005, NAN, NAN, 5000, 3500, "钢混", False, 1, "传统制造", 810, 2500, 1200, 0),
    ("L4", 480, 0, 100, 100, "M1", "operating", True, 2015, 2065, 2015, NAN, NAN, 6000, 2500, None, False, 1, "高端装备", 450, 2200, 600, 0),
    ("L5", 0, 120, 100, 50, "M1", "operating", True, 2005, 2055, 2005, NAN, NAN, 5000, 2000, "钢混", False, 1, "高端装备", 150, 2100, 300, 0),
    ("S2", 120, 120, 100, 100, "M1", "operating", True, 2005, 2055, 2005, NAN, NAN, 11000, 4000, "钢混", False, 1, "通用设备制造业", 165, 1000, NAN, 0),
    ("S2b", 240, 120, 100, 100, "M1", "operating", True, 2010, 2055, 2010, NAN, NAN, 10000, 4000, "砖混", False, 1, "专用设备制造业", 180, 1200, NAN, 1),
    ("S4", 360, 120, 100, 100, "M1", "operating", True, 2005, 2055, 2005, NAN, NAN, 9000, 4000, "钢混", False, 1, "生物医药", 165, 900, NAN, 0),
    ("S5", 480, 120, 100, 100, "M1", "operating", True, 2005, 2055, 2005, NAN, NAN, 2000, 3500, "钢混", False, 1, "传统制造", 165, 600, NAN, 0),
    ("S6", 0, 240, 100, 100, "M1", "operating", True, 2010, 2045, 2010, NAN, NAN, 8000, 4000, "砖混", False, 1, "金属制品业", 105, 500, NAN, 0),
    ("T1", 120, 240, 100, 100, "M1", "stopped", True, 2010, 2045, 2010, NAN, 2024, 6000, 3500, "砖混", False, 0, None, NAN, NAN, NAN, NAN),
    ("I1", 240, 240, 100, 100, "M1", "idle", True, 2023, 2073, NAN, 2024, NAN, 0, 0, None, False, 0, None, NAN, NAN, NAN, NAN),
    ("I2", 360, 240, 100, 100, "M1", "idle", True, 2022, 2072, NAN, NAN, NAN, NAN, NAN, None, False, 0, None, NAN, NAN, NAN, NAN),
    ("I3", 480, 240, 100, 100, "M1", "idle", True, 2021, 2071, NAN, 2022, NAN, 0, 0, None, False, 0, None, NAN, NAN, NAN, NAN),
    ("S1", 0, 360, 100, 100, "C65", "operating", True, 2015, 2065, 2015, NAN, NAN, 15000, 4000, "钢混", False, 1, "通用设备制造业", 225, 800, NAN, 0),
    ("U1", 120, 360, 100, 100, "U", "operating", True, 2005, NAN, 2005, NAN, NAN, 1000, 500, "砖混", False, 0, None, NAN, NAN, NAN, NAN),
    ("C1", 240, 360, 100, 100, "M1", "construction", True, 2024, 2075, NAN, NAN, NAN, NAN, NAN, None, False, 0, None, NAN, NAN, NAN, NAN),
    ("N1", 360, 360, 100, 100, "M1", "unsupplied", True, NAN, NAN, NAN, NAN, NAN, NAN, NAN, None, False, 0, None, NAN, NAN, NAN, NAN),
    ("I0", 480, 360, 100, 100, "M1", "idle", True, 2024, 2074, NAN, 2025, NAN, 0, 0, None, False, 0, None, NAN, NAN, NAN, NAN),
    ("X1", 620, 0, 100, 100, "M1", "operating", False, 2005, 2055, 2005, NAN, NAN, 10000, 4000, "钢混", True, 1, "高端装备", 1800, 3000, 3000, 0),
    ("S7", 620, 120, 100, 100, "M1", "operating", False, 2005, 2055, 2005, NAN, NAN, 4000, 4000, "钢混", False, 1, "金属制品业", 75, 400, NAN, 0),
]
COLUMNS = ["parcel_id", "_x", "_y", "_w", "_h", "land_use", "status", "inside_block", "lease_start_year", "lease_end_year",
           "production_start_year", "agreed_start_year", "stopped_since_year", "floor_area_m2", "footprint_m2", "structure",
           "illegal_use", "enterprise_count", "industry", "tax_wan", "revenue_wan", "value_added_wan", "high_tech_firms"]


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def park_parcels(rows=ROWS) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    geoms = [box(x, y, x + w, y + h) for x, y, w, h in zip(frame["_x"], frame["_y"], frame["_w"], frame["_h"], strict=True)]
    frame["block_id"] = np.where(frame["inside_block"], "B1", None)
    frame["structure"] = frame["structure"].astype(object).where(frame["structure"].notna(), None)
    frame = frame.drop(columns=["_x", "_y", "_w", "_h"])
    return add_areas(gpd.GeoDataFrame(frame, geometry=geoms, crs=WORKING))


ZONE_I = box(-50, -50, 300, 350)
ZONE_II = box(300, -50, 600, 350)


def park_dataset(parcels: gpd.GeoDataFrame | None = None, *, priced: bool = True) -> Dataset:
    parcels = park_parcels() if parcels is None else parcels
    blocks = gpd.GeoDataFrame({"block_id": ["B1"], "block_name": ["测试区块"]}, geometry=[box(-10, -10, 590, 470)], crs=WORKING)
    zones = gpd.GeoDataFrame({"price_zone": ["I", "II"]}, geometry=[ZONE_I, ZONE_II], crs=WORKING)
    price = pd.DataFrame({"price_zone": ["I", "I", "II", "II"], "price_use": ["工业", "研发", "工业", "研发"],
                          "land_price_yuan_m2": [1500.0, 3000.0, 1000.0, 2000.0]})
    return Dataset(parcels=parcels, input_crs=parcels.crs, blocks=blocks, land_price=price if priced else None,
                   price_zones=zones if priced else None)


def make(tmp_path, **more):
    overrides = {"base_dir": str(tmp_path), **OVERRIDES}
    for key, value in more.items():
        overrides[key] = {**overrides.get(key, {}), **value}
    return load_config(overrides=overrides)


@pytest.fixture
def project(tmp_path):
    return make(tmp_path)


@pytest.fixture
def run(project):
    return assess(park_dataset(), project)


@pytest.fixture
def result(run):
    return run.parcels.set_index("parcel_id")


def K(n: float) -> float:
    """年期修正 by hand: (1 − 1.06^−n) / (1 − 1.06^−50)."""
    return (1 - 1.06 ** -n) / (1 - 1.06 ** -50)


# --- the expected answers, by hand ---------------------------------------------------------------

# Scores: large = 100 × (60 × min(tax/亩 / 60, 1.5) + 40 × min(VA/亩 / 100, 1.5)) / 150;
#         small = 100 × (50 × min(tax/亩 / 10, 1.5) + 50 × min(FAR / 1.0, 1.5)) / 150.
SCORES = {
    "L1": 100 * (60 * 1.5 + 40 * 1.5) / 150,   # 1350/15 = 90 → 1.5 (capped); 2250/15 = 150 → 1.5
    "L2": 100 * (60 * 1.0 + 40 * 1.0) / 150,   # 60, 100
    "L3": 100 * (60 * 0.9 + 40 * 0.8) / 150,   # 54, 80
    "L4": 100 * (60 * 0.5 + 40 * 0.4) / 150,   # 30, 40
    "L5": 100 * (60 * (20 / 60) + 40 * 0.4) / 150,   # 150/7.5 = 20, 300/7.5 = 40
    "X1": 100 * (60 * 1.5 + 40 * 1.5) / 150,   # 120 → 2 capped, 200 → 2 capped: 100, yet direct D
    "S1": 100 * (50 * 1.5 + 50 * 1.5) / 150,   # 225/15 = 15 → 1.5; FAR 1.5
    "S2": 100 * (50 * 1.1 + 50 * 1.1) / 150,   # 165/15 = 11; FAR 1.1
    "S2b": 100 * (50 * 1.2 + 50 * 1.0) / 150,  # 180/15 = 12; FAR 1.0: ties S2 at 73.33
    "S4": 100 * (50 * 1.1 + 50 * 0.9) / 150,   # 11; FAR 0.9
    "S6": 100 * (50 * 0.7 + 50 * 0.8) / 150,   # 7; FAR 0.8
    "S5": 100 * (50 * 1.1 + 50 * 0.2) / 150,   # 11; FAR 0.2
    "S7": 100 * (50 * 0.5 + 50 * 0.4) / 150,   # 5; FAR 0.4
    "T1": 100 * (50 * 0.0 + 50 * 0.6) / 150,   # stopped, no firms: tax 0; FAR 0.6
    "T3": 100 * (50 * 0.0 + 50 * 1.0) / 150,   # stopped 3 years: scored, but direct D
}
# large ranked: L1 100 (1), L2 66.7 (2), L3 57.3 (3), L4 30.7 (4), L5 24 (5) of n = 5:
#   A ≤ 1, B ≤ 3, C ≤ 4, D (X1 takes no place: ranked, it would push L3 to C and L4 to D).
# small ranked: S1 100 (1), S2 = S2b 73.3 (2, 2), S4 66.7 (4), S6 50 (5), S5 43.3 (6), S7 30 (7),
#   T1 20 (8) of n = 8: A ≤ 2 (the tie at the cut both A), B ≤ 4, C ≤ 6, D ≤ 8.
GRADES = {"L1": "A", "L2": "B", "L3": "B", "L4": "C", "L5": "D", "X1": "D",
          "S1": "A", "S2": "A", "S2b": "A", "S4": "B", "S6": "C", "S5": "C", "S7": "D", "T1": "D", "T3": "D",
          "U1": "U", "C1": "U", "N1": "U", "I0": "U", "I1": "U", "I2": "U", "I3": "U"}
TRACKS = {**{p: "large" for p in ("L1", "L2", "L3", "L4", "L5", "X1")},
          **{p: "small" for p in ("S1", "S2", "S2b", "S4", "S6", "S5", "S7", "T1", "T3")}}
RANK_IN_TRACK = {"L1": 1, "L2": 2, "L3": 3, "L4": 4, "L5": 5, "S1": 1, "S2": 2, "S2b": 2, "S4": 4, "S6": 5, "S5": 6,
                 "S7": 7, "T1": 8}
RANK_IN_BLOCK = {"L1": 1, "L2": 2, "L3": 3, "L4": 4, "L5": 5, "S1": 1, "S2": 2, "S2b": 2, "S4": 4, "S6": 5, "S5": 6,
                 "T1": 7}  # S7 is outside B1
IDLE_REASON = "闲置土地(依法认定，按闲置土地处置)"
UNGRADED = {"U1": "公用设施等用地不参评", "C1": "在建用地不参评", "N1": "未供应土地不参评",
            "I0": "闲置未满一年(未到认定期限)", "I1": IDLE_REASON, "I2": IDLE_REASON, "I3": IDLE_REASON}

# List and flags. far_min: 高端装备/传统制造/金属制品业/生物医药/通用/专用设备 0.7, 集成电路 1.0, no
# industry 0.5. LOW_FAR: FAR < far_min; LOW_COEFF: footprint / area < 0.30; LOW_TAX: graded and
# tax/亩 < 10; SPORADIC: outside B1; SMALL: < 10 亩.
REASONS = {
    "L3": "LOW_FAR",                    # B, FAR 0.5 < 0.7: the watch table, not the list
    "L4": "C;LOW_FAR;LOW_COEFF",        # FAR 0.6 < 0.7, 2500 / 10000 = 0.25 < 0.30
    "S6": "C;LOW_TAX",                  # 7 < 10
    "S5": "C;LOW_FAR",                  # FAR 0.2 < 0.7 (tax 11, coefficient 0.35)
    "L5": "D;SMALL",                    # 7.5 亩
    "X1": "D;SPORADIC",
    "S7": "D;LOW_FAR;LOW_TAX;SPORADIC",  # FAR 0.4, tax 5
    "T1": "D;LOW_TAX;STOPPED",          # FAR 0.6 ≥ 0.5 (no industry)
    "T3": "D;LOW_TAX;STOPPED",
    "I1": "IDLE;LOW_FAR;LOW_COEFF",     # floor and footprint 0
    "I2": "IDLE",                       # floor and footprint unknown: no flag
    "I3": "IDLE;LOW_FAR;LOW_COEFF",
}
LISTED = {"L4": "C", "S6": "C", "S5": "C", "L5": "D", "X1": "D", "S7": "D", "T1": "D", "T3": "D",
          "I1": "IDLE", "I2": "IDLE", "I3": "IDLE"}
WATCHED = {"L3"}

# Paths (default rules), land freed (亩), floor area added (target FAR 2 × area − floor).
PATHS = {
    "I3": "idle_free", "I2": "idle_free",  # idle 3 and 2 years (I2: lease 2022 + 1 → agreed 2023)
    "I1": "idle_fee",                      # idle 1 year
    "X1": "reduce", "S7": "reduce",        # D outside B1
    "L5": "buyback",                       # small D inside B1
    "T1": "reclaim", "T3": "reclaim",
    "L4": "renew", "S5": "renew",          # C with low FAR (or coefficient)
    "S6": "watch",                         # other C
    "L2": "vertical", "S4": "vertical",    # light industry, FAR < 2, inside B1
    "L3": "intensify",                     # 传统制造, low FAR
    "L1": "innovation", "S2b": "innovation",  # high-tech firm
    "S1": "support", "S2": "support",
}
LAND_FREED = {"I3": 15, "I2": 15, "X1": 15, "S7": 15, "L5": 7.5, "T1": 15, "T3": 15}
FLOOR_ADDED = {"L4": 2 * 10000 - 6000, "S5": 2 * 10000 - 2000, "L2": 2 * 10000 - 11000, "S4": 2 * 10000 - 9000,
               "L3": 2 * 10000 - 5000}

# Land: price × 1.02 (2 % for 2025 − 2024) × K_far × K(n) × (1 + ΣK) × area / 1e4.
# K_far: 0.95 at FAR ≤ 0.5, 1.0 at 1, 1.05 at ≥ 2, linear between; 1 for unknown FAR.
# (price, K_far, years left, ΣK, area m²); None: cannot be valued.
LAND = {
    "L1": (1500, 1.0 + 0.6 * 0.05, 30, 0, 10000),   # zone I, FAR 1.6, lease to 2055
    "L2": (1500, 1.0 + 0.1 * 0.05, 30, 0, 10000),   # FAR 1.1
    "T3": (1500, 1.0, 20, 0, 10000),                # on the I/II edge: the first zone, I
    "L3": (1000, 0.95, 20, 0, 10000),               # zone II, FAR 0.5
    "L4": (1000, 0.95 + 0.2 * 0.05, 40, 0, 10000),  # FAR 0.6 → 0.96
    "L5": (1500, 1.0, 30, 0, 5000),
    "S2": (1500, 1.0 + 0.1 * 0.05, 30, 0, 10000),
    "S2b": (1500, 1.0, 30, 0, 10000),               # straddles the edge, point at x 290: zone I
    "S4": (1000, 0.95 + 0.8 * 0.05, 30, 0, 10000),  # FAR 0.9 → 0.99
    "S5": (1000, 0.95, 30, 0, 10000),               # FAR 0.2: flat below 0.5
    "S6": (1500, 0.95 + 0.6 * 0.05, 20, 0, 10000),  # FAR 0.8 → 0.98
    "T1": (1500, 0.96, 20, 0, 10000),
    "I1": (1500, 0.95, 48, 0, 10000),               # FAR 0
    "I2": (1000, 1.0, 47, 0, 10000),                # floor unknown
    "I3": (1000, 0.95, 46, 0, 10000),
    "C1": (800, 1.0, 50, 0, 10000),                 # outside the zones: district default; 2075 − 2025 = 50
    "N1": (800, 1.0, 50, 0, 10000),                 # no lease end: the full 50 years
    "I0": (800, 0.95, 49, 0, 10000),
    "X1": (800, 1.0, 30, -0.05, 10000),             # outside the zones and B1 (sporadic: ΣK −0.05)
    "S7": (800, 0.95, 30, -0.05, 10000),
    "S1": None,                                     # 研发 outside every zone, no default
    "U1": None,                                     # U has no price use
}
# Buildings: floor × cost × 成新率; 成新率 = rem / (age + rem), rem = min(life − age, lease left).
# 钢混 3000 元/m², 50 years; 砖混 2000 元/m², 40 years.
BUILDING = {
    "L1": (16000, 3000, 30 / (20 + 30)),   # built 2005: age 20, min(30, 30)
    "L2": (11000, 2000, 25 / (15 + 25)),   # 砖混 2010: age 15, min(25, 30)
    "T3": (10000, 3000, 20 / (25 + 20)),   # 2000: age 25, min(25, 20 left)
    "L3": (5000, 3000, 20 / (20 + 20)),    # min(30, 20 left)
    "L4": (6000, 3000, 40 / (10 + 40)),    # no structure recorded: default 钢混; 2015, 40 left
    "L5": (5000, 3000, 30 / (20 + 30)),
    "S1": (15000, 3000, 40 / (10 + 40)),
    "S2": (11000, 3000, 30 / (20 + 30)),
    "S2b": (10000, 2000, 25 / (15 + 25)),
    "S4": (9000, 3000, 30 / (20 + 30)),
    "S5": (2000, 3000, 30 / (20 + 30)),
    "S6": (8000, 2000, 20 / (15 + 20)),    # 砖混 2010, min(25, 20 left)
    "T1": (6000, 2000, 20 / (15 + 20)),
    "U1": (1000, 2000, 20 / (20 + 20)),    # 砖混 2005: min(20, 50 left)
    "X1": (10000, 3000, 30 / (20 + 30)),
    "S7": (4000, 3000, 30 / (20 + 30)),
}


def land_value(pid: str) -> float:
    spec = LAND[pid]
    if spec is None:
        return NAN
    price, k_far, n, site, area = spec
    return price * 1.02 * k_far * K(n) * (1 + site) * area / 1e4


def full_term_value(pid: str) -> float:
    price, k_far, _, site, area = LAND[pid]
    return price * 1.02 * k_far * (1 + site) * area / 1e4


def building_value(pid: str) -> float:
    floor, cost, share = BUILDING.get(pid, (0, 0, 0))
    return floor * cost * share / 1e4


def total_value(pid: str) -> float:
    return land_value(pid) + building_value(pid)


# B1's median tax per 亩 over its graded parcels (13: L1 90, L2 60, L3 54, L4 30, L5 20, S1 15,
# S2 11, S2b 12, S4 11, S5 11, S6 7, T1 0, T3 0): sorted 0 0 7 11 11 11 [12] 15 20 30 54 60 90 → 12.
BLOCK_MEDIAN = 12
COMPENSATION = {
    "X1": 30 * 15, "S7": 30 * 15,  # 减量化 30 万元/亩
    "L5": land_value("L5") + building_value("L5"),
    "T1": land_value("T1") + building_value("T1"),
    "T3": land_value("T3") + building_value("T3"),
}
TAX_GAIN = {"I1": 12 * 15 - 0, "I2": 12 * 15, "I3": 12 * 15, "T1": 12 * 15, "T3": 12 * 15, "S5": 12 * 15 - 165,
            "L5": 0.0, "L4": 0.0}  # L5: 90 − 150 < 0; L4: 180 − 450 < 0


# --- the park ------------------------------------------------------------------------------------


def test_the_park_is_what_the_drawing_says():
    parcels = park_parcels().set_index("parcel_id")
    assert len(parcels) == 22
    assert parcels.loc["L1", "area_m2"] == pytest.approx(10000) and parcels.loc["L1", "area_mu"] == pytest.approx(15)
    assert parcels.loc["L5", "area_mu"] == pytest.approx(7.5)
    # T3's representative point lies on the shared edge of the two zones (shapely, not landkit)
    point = parcels.loc["T3", "geometry"].representative_point()
    assert point.x == X0 + 300 and ZONE_I.intersects(point) and ZONE_II.intersects(point)


def test_tracks_scores_and_classes(result):
    for pid, grade in GRADES.items():
        assert result.loc[pid, "grade"] == grade, pid
        if pid in TRACKS:
            assert result.loc[pid, "track"] == TRACKS[pid], pid
            assert result.loc[pid, "score"] == pytest.approx(SCORES[pid], abs=1e-6), pid
            assert bool(result.loc[pid, "graded"]), pid
        else:
            assert pd.isna(result.loc[pid, "track"]) and np.isnan(result.loc[pid, "score"]), pid
            assert not result.loc[pid, "graded"], pid
    for pid in set(TRACKS) - {"X1", "T3"}:
        assert result.loc[pid, "grade_basis"] == "rank", pid
        assert result.loc[pid, "rank_in_track"] == RANK_IN_TRACK[pid], pid
        assert result.loc[pid, "direct_grade"] == "" and result.loc[pid, "grade_reason_zh"] == "", pid
    for pid, rank in RANK_IN_BLOCK.items():
        assert result.loc[pid, "rank_in_block"] == rank, pid
    assert pd.isna(result.loc["S7", "rank_in_block"]) and pd.isna(result.loc["X1", "rank_in_block"])
    assert np.isfinite(result.loc[list(TRACKS), "score"]).all()


def test_direct_classes_are_outside_the_quota(result):
    assert result.loc["T3", "direct_grade"] == "STOPPED" and result.loc["T3", "grade_basis"] == "direct"
    assert result.loc["T3", "grade_reason_zh"] == "停产满两年(直接列入D类)"
    assert result.loc["X1", "direct_grade"] == "ILLEGAL" and result.loc["X1", "grade_basis"] == "direct"
    assert result.loc["X1", "grade_reason_zh"] == "违法用地(直接列入D类)"
    for pid in ("T3", "X1"):
        assert pd.isna(result.loc[pid, "rank_in_track"]) and pd.isna(result.loc[pid, "rank_in_block"])
        assert result.loc[pid, "ungraded_reason"] == ""
    # stopped one year: ranked like any parcel
    assert result.loc["T1", "direct_grade"] == "" and result.loc["T1", "stopped_years"] == 1
    assert result.loc["T3", "stopped_years"] == 3


def test_ungraded_reasons_and_land_status(result):
    for pid, reason in UNGRADED.items():
        assert result.loc[pid, "ungraded_reason"] == reason, pid
        assert result.loc[pid, "grade"] == "U", pid
    for pid in set(GRADES) - set(UNGRADED):
        assert result.loc[pid, "ungraded_reason"] == "", pid
    assert {p: result.loc[p, "idle_years"] for p in ("I0", "I1", "I2", "I3")} == {"I0": 0, "I1": 1, "I2": 2, "I3": 3}
    assert result.loc["I2", "agreed_start_year_used"] == 2023  # lease 2022 + the 1-year lag
    assert set(result.index[result["legally_idle"]]) == {"I1", "I2", "I3"}
    assert set(result.index[result["idle_not_due"]]) == {"I0"}
    assert result.loc[["L1", "T1", "T3"], "idle_years"].isna().all()


def test_benchmarks_points_losses_and_weakest(result):
    # L3 (large): 亩均税收 54 of benchmark 60 → 60 × 0.9 = 54 points of 90; 亩均增加值 80 of 100 → 32 of 60
    assert result.loc["L3", "tax_per_mu"] == pytest.approx(54)
    assert result.loc["L3", "tax_per_mu_bench"] == pytest.approx(60)
    assert result.loc["L3", "tax_per_mu_pts"] == pytest.approx(54)
    assert result.loc["L3", "tax_per_mu_lost"] == pytest.approx(100 * (90 - 54) / 150)  # 24
    assert result.loc["L3", "value_added_per_mu"] == pytest.approx(80)
    assert result.loc["L3", "value_added_per_mu_bench"] == pytest.approx(100)
    assert result.loc["L3", "value_added_per_mu_pts"] == pytest.approx(32)
    assert result.loc["L3", "value_added_per_mu_lost"] == pytest.approx(100 * (60 - 32) / 150)  # 18.67
    assert np.isnan(result.loc["L3", "far_bench"]) and np.isnan(result.loc["L3", "far_pts"])  # not its track's
    assert result.loc["L3", "weakest_zh"] == "亩均税收失24.0分；亩均增加值失18.7分"
    assert SCORES["L3"] + 24 + 100 * 28 / 150 == pytest.approx(100)

    # S5 (small): 亩均税收 11 of 10 → 50 × 1.1 = 55 of 75; FAR 0.2 of 1.0 → 10 of 75
    assert result.loc["S5", "tax_per_mu_bench"] == pytest.approx(10)
    assert result.loc["S5", "tax_per_mu_pts"] == pytest.approx(55)
    assert result.loc["S5", "tax_per_mu_lost"] == pytest.approx(100 * (75 - 55) / 150)  # 13.33
    assert result.loc["S5", "far"] == pytest.approx(0.2)
    assert result.loc["S5", "far_bench"] == pytest.approx(1.0)
    assert result.loc["S5", "far_pts"] == pytest.approx(10)
    assert result.loc["S5", "far_lost"] == pytest.approx(100 * (75 - 10) / 150)  # 43.33
    assert np.isnan(result.loc["S5", "value_added_per_mu_pts"])
    assert result.loc["S5", "weakest_zh"] == "容积率失43.3分；亩均税收失13.3分"

    # S6: 7 of 10 → 35 of 75 (lost 26.7); FAR 0.8 → 40 of 75 (lost 23.3)
    assert result.loc["S6", "weakest_zh"] == "亩均税收失26.7分；容积率失23.3分"
    # L5: 20 of 60 → 20 of 90 (lost 46.7); 40 of 100 → 16 of 60 (lost 29.3)
    assert result.loc["L5", "weakest_zh"] == "亩均税收失46.7分；亩均增加值失29.3分"
    # L1 loses nothing (both capped): nothing named; S1 (tax capped at 1.5, FAR 1.5) likewise
    assert result.loc["L1", "weakest_zh"] == "" and result.loc["S1", "weakest_zh"] == ""
    # S1: tax capped at the track's 1.5 × benchmark
    assert result.loc["S1", "tax_per_mu_pts"] == pytest.approx(75)
    # ungraded parcels: no points, no weakest
    assert np.isnan(result.loc["I1", "tax_per_mu_pts"]) and result.loc["I1", "weakest_zh"] == ""


def test_list_watch_and_reasons(result):
    for pid in GRADES:
        assert bool(result.loc[pid, "low_efficiency"]) == (pid in LISTED), pid
        assert bool(result.loc[pid, "watch"]) == (pid in WATCHED), pid
        assert result.loc[pid, "list_basis"] == LISTED.get(pid, ""), pid
        assert result.loc[pid, "reasons"] == REASONS.get(pid, ""), pid
    listed = result[result["low_efficiency"]]
    assert set(listed["grade"]) <= {"C", "D", "U"}
    assert (listed.loc[listed["grade"] == "U", "legally_idle"]).all()
    assert not result.loc[result["grade"].isin(["A", "B"]), "low_efficiency"].any()
    assert result.loc["L3", "reasons_zh"] == "容积率低于控制指标"
    assert result.loc["S6", "reasons_zh"] == "综合绩效评价C类；亩均税收低于底线"
    assert result.loc["T3", "reasons_zh"] == "综合绩效评价D类：停产满两年(直接列入D类)；亩均税收低于底线；停产"
    assert result.loc["X1", "reasons_zh"] == "综合绩效评价D类：违法用地(直接列入D类)；零星工业用地(规划工业区块外)"
    assert result.loc["I1", "reasons_zh"] == "闲置土地(闲置1年)；容积率低于控制指标；建筑系数低于30%"
    assert result.loc["I3", "reasons_zh"] == "闲置土地(闲置3年)；容积率低于控制指标；建筑系数低于30%"
    assert result.loc["L4", "far_min"] == pytest.approx(0.7) and result.loc["L2", "far_min"] == pytest.approx(1.0)
    assert result.loc["T1", "far_min"] == pytest.approx(0.5)  # no industry: the default
    assert result.loc["L4", "building_coefficient"] == pytest.approx(0.25)


def test_collective_land_takes_its_own_paths(project):
    # 集体建设用地 (plan item 13): D or idle → 统一收储 (compensated at its residual value), C in a
    # block → 入市, C outside every block → 联营; state land keeps its path; the list is unchanged.
    parcels = park_parcels()
    parcels["ownership"] = np.where(parcels["parcel_id"].isin(["T1", "L4", "I2", "S7", "L1"]), "collective", "state")
    base = assess(park_dataset(), project).parcels.set_index("parcel_id")
    out = assess(park_dataset(parcels), project).parcels.set_index("parcel_id")
    expected = {**PATHS, "T1": "collective_bank", "I2": "collective_bank", "S7": "collective_bank", "L4": "collective_market"}
    for pid in GRADES:
        assert out.loc[pid, "disposal"] == expected.get(pid, ""), pid
    assert out.loc["T1", "compensation_wan"] == pytest.approx(base.loc["T1", "compensation_wan"])  # residual, as 收储
    assert out.loc["L4", "compensation_wan"] == 0 and out.loc["L4", "land_freed_mu"] == 0
    assert out["low_efficiency"].equals(base["low_efficiency"])
    assert out.loc["T1", "disposal_zh"] == "集体建设用地统一收储"
    # in the summary, the workbook and the report: 4 collective parcels listed (T1, L4, I2, S7; L1 is A)
    from landkit.deliver.report import build_report
    from landkit.deliver.sheets import workbook_sheets

    run = assess(park_dataset(parcels), project)
    table = run.tables["by_ownership"].set_index("ownership")
    assert table.loc["collective", "parcels"] == 5 and table.loc["collective", "inventory_parcels"] == 4
    assert table.loc["collective", "inventory_area_mu"] == pytest.approx(4 * 15)
    assert "土地权属" in workbook_sheets(project, run)
    html = build_report(run, project)
    assert "土地权属与集体建设用地" in html and "集体建设用地统一收储" in html and "集体经营性建设用地入市" in html
    # a C parcel outside every block (零星) is run jointly with the village: move S6 out of B1
    moved = parcels.copy()
    moved.loc[moved["parcel_id"] == "S6", ["ownership", "block_id", "inside_block"]] = ["collective", None, False]
    out = assess(park_dataset(moved), project).parcels.set_index("parcel_id")
    assert out.loc["S6", "sporadic"] and out.loc["S6", "disposal"] == "collective_joint"


def test_disposal_paths_gains_and_compensation(result):
    for pid in GRADES:
        assert result.loc[pid, "disposal"] == PATHS.get(pid, ""), pid
        assert result.loc[pid, "land_freed_mu"] == pytest.approx(LAND_FREED.get(pid, 0.0)), pid
        assert result.loc[pid, "floor_area_added_m2"] == pytest.approx(FLOOR_ADDED.get(pid, 0.0)), pid
        if pid in PATHS:
            assert result.loc[pid, "compensation_wan"] == pytest.approx(COMPENSATION.get(pid, 0.0)), pid
        else:
            assert np.isnan(result.loc[pid, "compensation_wan"]), pid
    for pid, gain in TAX_GAIN.items():
        assert result.loc[pid, "tax_gain_wan"] == pytest.approx(gain), pid
    assert result.loc["T1", "potential_tax_wan"] == pytest.approx(BLOCK_MEDIAN * 15)
    assert result.loc["L5", "potential_tax_wan"] == pytest.approx(BLOCK_MEDIAN * 7.5)
    assert np.isnan(result.loc["X1", "potential_tax_wan"])  # reduce gains no tax
    assert result.loc["T1", "payback_years"] == pytest.approx(COMPENSATION["T1"] / 180)
    assert result.loc["I3", "compensation_basis"] == "none" and result.loc["T3", "compensation_basis"] == "residual"
    assert result.loc["X1", "compensation_basis"] == "reduction"
    assert result.loc["X1", "net_land_value_wan"] == pytest.approx(800 * 1.02 * 0.95 * 10000 / 1e4 - 450)
    assert result.loc["I2", "net_land_value_wan"] == pytest.approx(1000 * 1.02 * 10000 / 1e4)  # idle_free: nothing paid
    assert result.loc["L5", "net_land_value_wan"] == pytest.approx(full_term_value("L5") - COMPENSATION["L5"])
    assert result.loc["S6", "review_year"] == YEAR + 1
    assert result["review_year"].notna().sum() == 1
    assert result.loc["T3", "disposal_zh"] == "收回/收储"
    assert result.loc["I3", "disposal_zh"] == "无偿收回(闲置满两年)"


def test_value_by_the_coefficient_method(result):
    assert np.allclose(result["date_factor"].astype(float), 1.02)
    for pid, spec in LAND.items():
        if spec is None:
            assert np.isnan(result.loc[pid, "land_value_wan"]) and np.isnan(result.loc[pid, "total_value_wan"]), pid
            assert result.loc[pid, "value_missing_reason"] != "", pid
            continue
        price, k_far, n, site, _ = spec
        assert result.loc[pid, "land_price_yuan_m2"] == pytest.approx(price), pid
        assert result.loc[pid, "far_factor"] == pytest.approx(k_far), pid
        assert result.loc[pid, "lease_years_left"] == pytest.approx(n), pid
        assert result.loc[pid, "lease_factor"] == pytest.approx(K(n)), pid
        assert result.loc[pid, "site_factor"] == pytest.approx(site), pid
        assert result.loc[pid, "land_value_wan"] == pytest.approx(land_value(pid)), pid
        assert result.loc[pid, "land_value_full_term_wan"] == pytest.approx(full_term_value(pid)), pid
        assert result.loc[pid, "building_value_wan"] == pytest.approx(building_value(pid)), pid
        assert result.loc[pid, "total_value_wan"] == pytest.approx(total_value(pid)), pid
        assert result.loc[pid, "value_missing_reason"] == "", pid
    # the hand K for a few terms, written out
    assert K(20) == pytest.approx((1 - 1.06 ** -20) / (1 - 1.06 ** -50)) and K(50) == 1
    assert result.loc["N1", "land_value_wan"] == pytest.approx(800 * 1.02)  # 816: default price, full term
    assert result.loc["L1", "value_per_mu_wan"] == pytest.approx(total_value("L1") / 15)
    # zones: by representative point, the first zone on a shared edge, none outside
    zones = result["price_zone"]
    assert zones["T3"] == "I" and zones["S2b"] == "I" and zones["I1"] == "I" and zones["L3"] == "II"
    assert pd.isna(zones["X1"]) and pd.isna(zones["S1"]) and pd.isna(zones["C1"])
    assert result.loc["S1", "price_use"] == "研发"
    # structures: recorded, else the default for a parcel with floor area
    assert result.loc["L4", "structure_used"] == "钢混" and result.loc["L2", "structure_used"] == "砖混"
    assert result.loc["T3", "building_share"] == pytest.approx(20 / 45)
    assert result.loc["L3", "building_share"] == pytest.approx(0.5)  # capped by the 20 lease years left
    assert result.loc["S1", "building_value_wan"] == pytest.approx(15000 * 3000 * 0.8 / 1e4)
    assert result.loc["S1", "value_missing_reason"] == "不在任何地价级别区内研发用地价格，且未设区县默认地价"
    assert result.loc["U1", "value_missing_reason"] == "用地性质U无基准地价用途(valuation.price_uses)"


def test_summary_counts_and_totals(run):
    summary = run.summary
    assert summary["parcels"] == 22
    assert {g: v["parcels"] for g, v in summary["grades"].items()} == {"A": 4, "B": 3, "C": 3, "D": 5, "U": 7}
    assert summary["direct_grades"] == {"STOPPED": 1, "ILLEGAL": 1}
    assert summary["legally_idle"] == {"parcels": 3, "area_mu": pytest.approx(45)}
    inv = summary["inventory"]
    assert inv["parcels"] == 11 and inv["area_mu"] == pytest.approx(10 * 15 + 7.5)
    assert inv["by_basis"] == {"C": 3, "D": 5, "IDLE": 3}
    assert summary["watch"]["parcels"] == 1
    paths = summary["paths"]
    assert paths["parcels"] == 18
    assert paths["land_freed_mu"] == pytest.approx(6 * 15 + 7.5)
    assert paths["floor_area_added_m2"] == pytest.approx(14000 + 18000 + 9000 + 11000 + 15000)
    assert paths["tax_gain_wan"] == pytest.approx(5 * 180 + 15)
    assert paths["compensation_wan"] == {"total": pytest.approx(sum(COMPENSATION.values())), "parcels": 18, "missing": 0}
    valued = [p for p, spec in LAND.items() if spec is not None]
    value = summary["value"]
    assert value["total_value_wan"] == {"total": pytest.approx(sum(total_value(p) for p in valued)), "parcels": 20,
                                        "missing": 2}
    assert value["land_value_wan"] == {"total": pytest.approx(sum(land_value(p) for p in valued)), "parcels": 20,
                                       "missing": 2}
    assert value["without_value"] == {"不在任何地价级别区内研发用地价格，且未设区县默认地价": 1,
                                      "用地性质U无基准地价用途(valuation.price_uses)": 1}
    tracks = {row["track"]: row for row in summary["grades_by_track"]}
    assert {g: tracks["large"][g] for g in "ABCDU"} == {"A": 1, "B": 2, "C": 1, "D": 2, "U": 0}
    assert {g: tracks["small"][g] for g in "ABCDU"} == {"A": 3, "B": 1, "C": 2, "D": 3, "U": 0}


# --- focused tests -------------------------------------------------------------------------------


def test_a_parcel_matching_no_track_is_u_with_the_reason(tmp_path):
    tracks = [dict(t) for t in OVERRIDES["assessment"]["tracks"]]
    tracks[1]["when"] = "revenue_wan >= 500 or status == 'stopped'"  # S7 (revenue 400) matches neither
    result = assess(park_dataset(), make(tmp_path, assessment={"tracks": tracks})).parcels.set_index("parcel_id")
    s7 = result.loc["S7"]
    assert s7["grade"] == "U" and s7["ungraded_reason"] == "不属于任何评价分组"
    assert s7["ungraded_reason_en"] == "matches no assessment track"
    assert np.isnan(s7["score"]) and pd.isna(s7["track"]) and not s7["graded"]
    assert not s7["low_efficiency"] and s7["disposal"] == ""
    ranked = result[result["grade"].isin(["A", "B", "C", "D"])]
    assert np.isfinite(ranked["score"]).all()
    # the small track has 7 ranked parcels now: A ≤ 1.75, B ≤ 3.5, C ≤ 5.25, else D
    assert result.loc[["S1", "S2", "S2b", "S4", "S6", "S5", "T1"], "grade"].tolist() == ["A", "B", "B", "C", "C", "D", "D"]


def test_no_tax_column_gives_nan_tax_not_a_count(run):
    with_tax = summary_tables(run.parcels)["by_grade"].set_index("grade")
    assert with_tax.loc["A", "tax_wan"] == pytest.approx(1350 + 225 + 165 + 180)
    assert with_tax.loc["A", "parcels"] == 4
    by_grade = summary_tables(run.parcels.drop(columns=["tax_wan"]))["by_grade"].set_index("grade")
    assert by_grade["tax_wan"].isna().all()
    assert by_grade.loc["A", "parcels"] == 4 and by_grade.loc["D", "parcels"] == 5


def test_no_price_anywhere_gives_no_value_total(tmp_path):
    project = make(tmp_path, valuation={"district_default_yuan_m2": {}})
    assert project.valuation.district_default_yuan_m2 == {}
    run = assess(park_dataset(priced=False), project)
    value = run.summary["value"]
    assert value["total_value_wan"] == {"total": None, "parcels": 0, "missing": 22}
    assert value["land_value_wan"] == {"total": None, "parcels": 0, "missing": 22}
    assert summarise(run, year=YEAR)["value"]["total_value_wan"]["total"] is None
    # the residual compensations (L5, T1, T3) cannot be estimated: counted as missing, not as 0
    comp = run.summary["paths"]["compensation_wan"]
    assert comp == {"total": pytest.approx(2 * 450), "parcels": 15, "missing": 3}


def test_track_rank_shares_must_sum_to_one(tmp_path):
    tracks = [dict(t) for t in OVERRIDES["assessment"]["tracks"]]
    tracks[0]["grading"] = {"method": "rank", "rank_shares": {"A": 0.3, "B": 0.4, "C": 0.2, "D": 0.2},
                            "score_min": SHARES_SCORE_MIN}
    with pytest.raises(ConfigError, match=r"assessment\.tracks\.0\.grading\.rank_shares"):
        make(tmp_path, assessment={"tracks": tracks})


def test_unknown_structure_names_the_parcel(project):
    parcels = park_parcels()
    parcels.loc[parcels["parcel_id"] == "L2", "structure"] = "框架"
    with pytest.raises(DataError, match=r"L2.*框架.*valuation\.structures"):
        assess(park_dataset(parcels), project)


def test_a_listed_parcel_without_a_path_is_an_error(tmp_path):
    rules = yaml.safe_load(default_profile_text())["disposal"]["rules"]
    rules = [r for r in rules if r["code"] != "buyback"]
    for rule in rules:
        if rule["code"] == "reclaim":
            rule["when"] = "grade == 'D' and not small"
    project = make(tmp_path, disposal={"rules": rules})
    with pytest.raises(ConfigError, match=r"disposal\.rules: listed parcel L5 \(class D\) matches no rule"):
        assess(park_dataset(), project)


@pytest.mark.parametrize("seed", [None, 1, 2, 3])
def test_ties_at_a_cut_take_the_better_class_whatever_the_order(project, seed):
    parcels = park_parcels()
    parcels = parcels.iloc[::-1] if seed is None else parcels.sample(frac=1, random_state=seed)
    result = assess(park_dataset(parcels), project).parcels.set_index("parcel_id")
    # S2 and S2b tie at rank 2 = the A cut of the small track (2 of 8): both A, S4 ranks 4
    assert result.loc["S2", "grade"] == result.loc["S2b", "grade"] == "A"
    assert result.loc["S2", "rank_in_track"] == result.loc["S2b", "rank_in_track"] == 2
    assert result.loc["S4", "rank_in_track"] == 4
    assert result["grade"].to_dict() == GRADES
