"""Exports a planner opens elsewhere: shapefile (GBK or UTF-8), GeoPackage, Excel and CSV.

- Field names in the planner's terms (:data:`NAME_STYLES`): ``source``, the planner's own names
  for the columns a run read from their files (宗地编号, as the run's manifest records them:
  :func:`source_names`) and Chinese names for landkit's computed ones (评价等级, 亩均税收);
  ``zh``, Chinese names for all; ``en``, landkit's English names.
- Shapefile: field names of at most 10 bytes in the chosen encoding (5 Chinese characters in
  GBK, 3 in UTF-8: :data:`SHORT_ZH`, :func:`abbreviate_zh`), without collisions, a ``.cpg``
  always, strings cut to 254 bytes at a character boundary, and a data dictionary
  (``<name>_fields.csv``: field → column → Chinese label → English label → unit → the planner's
  column) beside it.
- GeoPackage, GeoJSON: the full names of the style (the planner's, or a workbook's Chinese
  header with its unit), with the dictionary beside them unless the names are landkit's own.
- Excel: Chinese (or English) headers with units, frozen header row, number formats, filters,
  columns as wide as their content, and a print setup (landscape, one page wide, the header row
  on every page).
- CSV: UTF-8 with BOM (Excel then reads Chinese correctly), labelled headers.

Text from the data is never a formula (OWASP CSV injection): workbook cells of text are written
as strings (a cell starting with ``= + - @``, tab or CR with Excel's quote prefix), and such a
CSV cell gets a leading ``'``. Tables in Chinese show coded values in Chinese (土地状态 在产, not
``operating``; booleans 是/否, in English yes/no).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from landkit.core.errors import LandkitError
from landkit.core.i18n import _
from landkit.core.units import dimension_of, unit_factor
from landkit.deliver.labels import Label, header
from landkit.deliver.workbook import _plain, write_csv, write_excel
from landkit.io.run_folder import MANIFEST
from landkit.io.write import atomic_path, vector_parts, write_layers, write_vector

log = logging.getLogger(__name__)

SHAPEFILE_FIELD_BYTES = 10
SHAPEFILE_STRING_BYTES = 254

# --- field names: the planner's, landkit's Chinese, or landkit's English ------------------------------

#: How exported fields are named (``landkit export --names``): ``source``, the planner's own
#: names for the columns a run read from their files and Chinese names for landkit's computed
#: ones; ``zh``, Chinese names for all; ``en``, landkit's English names (shapefile short names,
#: canonical column names elsewhere).
NAME_STYLES = ("source", "zh", "en")

#: Chinese shapefile names of landkit's columns (at most 5 characters: 10 bytes in GBK) where the
#: label (:data:`landkit.deliver.labels.COLUMNS`) is longer, shared with another column, or abbreviates
#: badly; every other column's name is its label, abbreviated by :func:`abbreviate_zh`.
SHORT_ZH: dict[str, str] = {
    # parcels (the label is shared by several columns, or longer than 5 characters)
    "area_m2": "面积平方米", "area_mu": "用地面积亩", "area_ha": "面积公顷",
    "agreed_start_year": "约定动工年", "agreed_start_year_used": "认定动工年", "idle_since_year": "闲置起始年",
    "legally_idle": "依法闲置", "idle_not_due": "闲置未满年", "high_tech_firms": "高新企业数",
    "founded_year": "企业成立年", "floor_area_added_m2": "新增建面", "yard_m2": "堆场面积",
    "sporadic": "零星工业地", "structure_used": "估价结构",
    # grades, lists, paths
    "direct_grade": "直接定级", "grade_reason_zh": "定级原因", "grade_reason_en": "定级原因英",
    "weakest_zh": "失分指标", "weakest_en": "失分指标英", "ungraded_reason_en": "不参评英文",
    "rank_in_block": "区块内排名", "low_efficiency": "低效清单", "watch": "关注清单", "disposal": "路径代码",
    "payback_years": "回收年限", "far_min": "最低容积率",
    # valuation
    "date_factor": "期日系数", "far_factor": "容积率系数", "lease_factor": "年期系数", "site_factor": "因素修正",
    "land_value_full_term_wan": "全期地价",
    # rings, scatter, blocks
    "ring_name": "圈层名称", "ring_modelled": "时间圈层", "travel_min_to_core": "至核心时间",
    "minutes_to_core": "至核心时间", "function_misfit_reason": "功能不符", "parcel_area_ha": "地块面积",
    "cluster_parcels": "簇地块数", "adjustment": "调整代码", "adjustment_block": "目标区块",
    "scatter_reason_en": "小散原因英", "low_grade_share": "CD类占比",
    # the default profile's inventory reasons (flags: listed for this reason)
    "r_C": "因C类", "r_D": "因D类", "r_IDLE": "因闲置", "r_LOW_FAR": "因容积率低", "r_LOW_COEFF": "因系数低",
    "r_LOW_TAX": "因税收低", "r_STOPPED": "因停产", "r_SPORADIC": "因零星", "r_SMALL": "因小地块", "r_ISOLATED": "因孤立",
    # `landkit compare`
    "change_type": "变化类型码", "grade_a": "上期等级", "grade_b": "本期等级", "score_a": "上期得分", "score_b": "本期得分",
    "status_a": "上期状态", "status_b": "本期状态", "listed_a": "上期列入", "listed_b": "本期列入",
    "inventory_change": "清单变化码", "reasons_a": "上期原因码", "reasons_b": "本期原因码",
    "reasons_added": "新增原因码", "reasons_removed": "消除原因码", "reasons_added_zh": "新增原因",
    "reasons_removed_zh": "消除原因", "reasons_added_en": "新增原因英", "reasons_removed_en": "消除原因英",
    "disposal_a": "上期路径码", "disposal_b": "本期路径码", "disposal_zh_a": "上期路径", "disposal_zh_b": "本期路径",
    "path_change": "路径变化码", "floor_area_m2_a": "上期建面", "floor_area_m2_b": "本期建面",
    "floor_area_change_m2": "建面变化", "land_freed_mu_a": "上期腾退",
}

#: Stems (at most 3 characters) of the default profile's indicators in the names of the columns
#: made from them: 亩均税得分 (``tax_per_mu_pts``), 亩均税基准, 亩均税失分, 开发率得分 (a block
#: score); other indicators' stems are their labels abbreviated.
STEM_ZH: dict[str, str] = {
    "tax_per_mu": "亩均税", "value_added_per_mu": "亩均增", "va_per_energy": "能耗增", "va_per_emission": "排放增",
    "labour_productivity": "劳产率", "rd_intensity": "研发比", "tax_per_kwh": "电耗税", "revenue_per_mu": "亩均营",
    "far": "容积率", "coverage": "密度", "jobs_per_ha": "就业",
    "land_development_rate": "开发率", "industrial_land_share": "工业率", "tax_per_ha_wan": "地均税",
    "output_per_ha_wan": "地均营", "idle_rate": "闲置率", "low_grade_share": "CD占比",
}

#: Columns made from an indicator: column suffix → the Chinese word after the indicator's stem.
DERIVED_ZH = {"_pts": "得分", "_bench": "基准", "_lost": "失分", "_score": "得分"}

#: Shorter forms of words in Chinese labels, applied in turn while a name is too long for a field
#: (in this order, so the same label always gives the same name).
ZH_SHORTER: tuple[tuple[str, str], ...] = (
    ("列入", ""), ("主要", ""), ("直接", ""), ("全员", ""), ("单位", ""), ("盘活", ""), ("通行", ""), ("所属", ""),
    ("经费占营业收入比重", "强度"), ("营业收入", "营收"), ("修正系数", "系数"), ("建筑面积", "建面"),
    ("低效用地", "低效"), ("高新技术", "高新"), ("劳动生产率", "劳产率"), ("代码", "码"), ("年份", "年"),
)

#: The mark of a label of English text (``盘活路径(英文)``), and what its field name ends with instead.
ENGLISH_MARK, ENGLISH_SUFFIX = "(英文)", "英"

#: The word before the label of an inventory reason's flag (``r_<code>``: listed for that reason).
REASON_PREFIX = "因"

_BRACKETS = re.compile(r"\s*[(（][^)）]*[)）]")

#: Which inputs' column names the fields of each layer of a run may take (the first input that
#: read a column names it). A run's other layers (parcels, inventory, watchlist and the tables by
#: parcel or block) hold the parcel layer's columns and the blocks' ids and names. The
#: enterprise table names none: a parcel's ``tax_wan``, ``revenue_wan`` ... are the totals of
#: all its enterprises (and ``industry``, ``founded_year`` its main one's), not the cells of
#: the planner's column, whose header (``税收(万元)`` of one firm; ``用电量(万千瓦时)`` where the
#: parcel's sum is in kWh) would misstate them: they keep landkit's names (税收, 用电量).
LAYER_INPUTS: dict[str, tuple[str, ...]] = {"blocks": ("blocks",), "roads": ("roads",), "core_sites": ("core_sites",)}
OTHER_LAYER_INPUTS: tuple[str, ...] = ("parcels", "blocks")

#: Columns read from the planner's files whose values on a run's layers are not those cells:
#: a block's ``ring`` is the project's ``rings.designated`` when it gives one.
NOT_AS_READ = frozenset({"ring"})


def _nbytes(name: str, encoding: str) -> int:
    return len(name.encode(encoding))


def _fits(name: str, encoding: str, limit: int = SHAPEFILE_FIELD_BYTES) -> bool:
    return _nbytes(name, encoding) <= limit


def _cut(name: str, encoding: str, limit: int = SHAPEFILE_FIELD_BYTES) -> str:
    """Return ``name`` cut at a character boundary to at most ``limit`` bytes in ``encoding``."""
    while _nbytes(name, encoding) > limit:
        name = name[:-1]
    return name


def _codec(encoding: str) -> str:
    """Return the Python codec of a shapefile encoding (``utf-8``, ``gbk``, ``gb18030``)."""
    codec = {"utf-8": "utf-8", "utf8": "utf-8", "gbk": "gbk", "gb18030": "gb18030"}.get(encoding.lower())
    if codec is None:
        raise LandkitError(_("shapefile encoding `{encoding}` is not supported; use utf-8, gbk or gb18030").format(
            encoding=encoding))
    return codec


#: Characters GBK lacks that have a plain equivalent it holds, written as that equivalent in a
#: GBK shapefile (landkit's own English texts write ``−`` in ``points −3.5``; units ``m²``).
GBK_SUBSTITUTES = str.maketrans({"\u2212": "-", "\u2022": "·", "²": "2", "³": "3", "µ": "μ"})


def substituted(text: str, encoding: str) -> str:
    """Return ``text`` with the characters GBK lacks replaced by :data:`GBK_SUBSTITUTES` (GBK only)."""
    return text.translate(GBK_SUBSTITUTES) if encoding == "gbk" else text


def encodable(name: str, encoding: str) -> str:
    """Return ``name`` without the characters ``encoding`` cannot hold (and control characters), stripped.

    In GBK, a character it lacks with a plain equivalent is written as that (``m²`` → ``m2``:
    :data:`GBK_SUBSTITUTES`).
    """
    def keep(ch: str) -> bool:
        try:
            ch.encode(encoding)
        except UnicodeEncodeError:
            return False
        return ch.isprintable()

    return "".join(ch for ch in substituted(str(name), encoding) if keep(ch)).strip()


def abbreviate_zh(text: str, encoding: str = "gbk", limit: int = SHAPEFILE_FIELD_BYTES) -> str:
    """Return a Chinese name of at most ``limit`` bytes in ``encoding``, shortened deterministically.

    A name that fits is kept. Otherwise, in turn until it fits: bracketed parts are dropped
    (``闲置土地(依法认定)`` → ``闲置土地``), then the words of :data:`ZH_SHORTER` shortened one by
    one (``约定动工年份`` → ``约定动工年``, ``亩均营业收入`` → ``亩均营收``), and the rest is cut
    at a character boundary.
    """
    if _fits(text, encoding, limit):
        return text
    text = _BRACKETS.sub("", text).strip() or text
    for word, short in ZH_SHORTER:
        if _fits(text, encoding, limit):
            return text
        text = text.replace(word, short)
    return _cut(text, encoding, limit)


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def zh_field_name(column: str, labels: Mapping[str, Label], encoding: str = "gbk",
                  limit: int = SHAPEFILE_FIELD_BYTES) -> str | None:
    """Return a column's Chinese field name of at most ``limit`` bytes, or None if it has no Chinese label.

    :data:`SHORT_ZH` first; a column made from an indicator is the indicator's stem and what it
    is (亩均税得分, 亩均税基准, 亩均税失分); an inventory reason's flag is 因 and the reason
    (因停产); a label of English text ends with 英 (盘活路径英); any other is its label,
    abbreviated (:func:`abbreviate_zh`). Names are cut to ``limit`` bytes: in UTF-8, three
    Chinese characters.
    """
    if column in SHORT_ZH:
        return _cut(SHORT_ZH[column], encoding, limit)
    for suffix, word in DERIVED_ZH.items():
        stem = column[: -len(suffix)]
        if column.endswith(suffix) and stem in labels and _has_chinese(labels[stem].zh):
            room = max(limit - _nbytes(word, encoding), 0)
            return abbreviate_zh(STEM_ZH.get(stem) or labels[stem].zh, encoding, room) + word
    label = labels.get(column)
    if label is None or not _has_chinese(label.zh):
        return None
    text = encodable(label.zh, encoding)
    if column.startswith("r_"):
        return REASON_PREFIX + abbreviate_zh(text, encoding, limit - _nbytes(REASON_PREFIX, encoding))
    if text.endswith(ENGLISH_MARK):
        base = text[: -len(ENGLISH_MARK)]
        return abbreviate_zh(base, encoding, limit - _nbytes(ENGLISH_SUFFIX, encoding)) + ENGLISH_SUFFIX
    return abbreviate_zh(text, encoding, limit)


def en_field_name(column: str, labels: Mapping[str, Label], encoding: str = "utf-8",
                  limit: int = SHAPEFILE_FIELD_BYTES) -> str:
    """Return a column's English field name: the label's short name, else the column's name, cut.

    ``<name>_pts`` and ``<name>_score`` are the short name of ``<name>`` (or ``<name>``) with
    ``_p`` / ``_s``.
    """
    label = labels.get(column)
    base = label.short if label and label.short else ""
    if not base and column.endswith("_pts"):
        stem = labels.get(column[:-4])
        base = (stem.short if stem and stem.short else column[:-4])[:7] + "_p"
    if not base and column.endswith("_score"):
        stem = labels.get(column[:-6])
        base = (stem.short if stem and stem.short else column[:-6])[:7] + "_s"
    return _cut(encodable(base or column, encoding) or column, encoding, limit)


def _unique(wanted: Mapping[str, str], order: list[str], encoding: str | None, limit: int | None,
            taken: set[str] | None = None) -> dict[str, str]:
    """Return ``wanted`` names made unique (case-insensitively), in ``order`` of precedence.

    A name already taken gets the lowest free numeric suffix (``圈层1``), the name cut so that
    name and suffix fit ``limit`` bytes in ``encoding`` (no limit when ``limit`` is None).
    """
    taken = set() if taken is None else {t.lower() for t in taken}
    out: dict[str, str] = {}
    for column in order:
        base = wanted[column]
        name, n = base, 1
        while name.lower() in taken or not name:
            suffix = str(n)
            name = (base if limit is None or encoding is None
                    else _cut(base, encoding, limit - len(suffix))) + suffix
            n += 1
        taken.add(name.lower())
        out[column] = name
    return {c: out[c] for c in wanted}


def _planner_names(sources: Mapping[str, str] | None) -> dict[str, str]:
    """Return the planner's column names that are names (not blank), stripped."""
    return {c: str(n).strip() for c, n in (sources or {}).items() if str(n).strip()}


def _check_style(style: str) -> None:
    if style not in NAME_STYLES:
        raise LandkitError(_("field names `{style}` are not one of: {styles}").format(style=style,
                                                                                  styles=", ".join(NAME_STYLES)))


def shapefile_field_names(columns: list[str], labels: Mapping[str, Label], encoding: str = "utf-8", *,
                          style: str = "en", sources: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return column → shapefile field name (≤ 10 bytes in ``encoding``, unique, case-insensitive).

    Parameters
    ----------
    columns : list of str
        The layer's columns (not its geometry).
    labels : mapping
        The label table (:func:`landkit.deliver.labels.labels_for`).
    encoding : str
        The shapefile's encoding: ``gbk`` and ``gb18030`` hold 5 Chinese characters in a name,
        ``utf-8`` 3.
    style : {"en", "zh", "source"}
        ``en``: the labels' English short names (:func:`en_field_name`); ``zh``: Chinese names
        (:func:`zh_field_name`; English for a column without a Chinese label); ``source``: as
        ``zh``, but a column read from the planner's files keeps the planner's name
        (abbreviated only if it does not fit).
    sources : mapping, optional
        Column → the planner's column it was read from (:func:`source_names`).

    Returns
    -------
    dict
        In the order of ``columns``. The planner's names are placed first, so a computed column
        whose name would collide with one gets the numeric suffix (``圈层1``), not the planner's.
    """
    _check_style(style)
    codec = _codec(encoding)
    sources = _planner_names(sources) if style == "source" else {}
    wanted: dict[str, str] = {}
    for column in columns:
        own = abbreviate_zh(encodable(sources[column], codec), codec) if column in sources else ""
        zh = zh_field_name(column, labels, codec) if style != "en" and not own else None
        wanted[column] = own or zh or en_field_name(column, labels, codec)
    order = [c for c in columns if c in sources] + [c for c in columns if c not in sources]
    return _unique(wanted, order, codec, SHAPEFILE_FIELD_BYTES)


#: Field names a GeoPackage keeps for itself (its feature id, the geometry column).
RESERVED_FIELDS = frozenset({"fid", "geometry", "geom"})


def _full_zh(column: str, labels: Mapping[str, Label]) -> str:
    """Return a column's full Chinese name: its header (an inventory reason's flag with 因 before it)."""
    prefix = REASON_PREFIX if column.startswith("r_") and column in labels else ""
    return prefix + header(column, labels, "zh")


def full_field_names(columns: list[str], labels: Mapping[str, Label], *, style: str = "en",
                     sources: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return column → field name of a format without a name limit (GeoPackage, GeoJSON).

    ``en``: the columns' own names (as in the run); ``zh``: the Chinese label and unit, as a
    workbook's header (``税收(万元)``; an inventory reason's flag 因 and the reason, as in a
    shapefile; the column's name if it has no label); ``source``: as
    ``zh``, but the planner's own name for a column read from their files. Unique (a numeric
    suffix, the planner's names placed first).
    """
    _check_style(style)
    if style == "en":
        return {c: c for c in columns}
    sources = _planner_names(sources) if style == "source" else {}
    wanted = {c: sources.get(c) or _full_zh(c, labels) for c in columns}
    order = [c for c in columns if c in sources] + [c for c in columns if c not in sources]
    return _unique(wanted, order, None, None, taken=set(RESERVED_FIELDS))


def table_headers(columns: list[str], labels: Mapping[str, Label], *, lang: str = "zh", style: str = "en",
                  sources: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return column → header of a workbook or CSV: label and unit in ``lang`` (``税收(万元)``),
    and with ``style`` ``source`` the planner's own name for a column read from their files."""
    _check_style(style)
    sources = _planner_names(sources) if style == "source" else {}
    return {c: sources.get(c) or header(c, labels, lang) for c in columns}


def source_names(manifest: Mapping[str, Any], layer: str) -> dict[str, str]:
    """Return column → the planner's column it was read from, for the fields of a run's ``layer``.

    Parameters
    ----------
    manifest : mapping
        The run's ``manifest.json``: its ``source_columns`` (input kind → canonical column →
        the planner's column) and ``config.columns`` (the units of the mapping).
    layer : str
        The layer exported (see :data:`LAYER_INPUTS`).

    Returns
    -------
    dict
        Empty for a run that recorded no ``source_columns`` (made before they were recorded).
        Without a column whose values were converted from the planner's unit (``unit: 亩`` for
        ``floor_area_m2``: the planner's name would name the wrong unit) or are not the cells as
        read (:data:`NOT_AS_READ`).
    """
    recorded = manifest.get("source_columns") if isinstance(manifest, Mapping) else None
    if not isinstance(recorded, Mapping):
        return {}
    config = manifest.get("config")
    mapping = (config.get("columns") or {}) if isinstance(config, Mapping) else {}
    out: dict[str, str] = {}
    for kind in LAYER_INPUTS.get(layer, OTHER_LAYER_INPUTS):
        read = recorded.get(kind)
        if not isinstance(read, Mapping):
            continue
        for column, name in read.items():
            if column in out or column in NOT_AS_READ or not isinstance(name, str) or not name.strip():
                continue
            if not _converted((mapping.get(kind) or {}).get(column), column):
                out[column] = name
    return out


def _converted(spec: object, column: str) -> bool:
    """Whether a mapping (``{names: [...], unit: 亩}``) converts its column's values into landkit's unit."""
    unit_name = spec.get("unit") if isinstance(spec, Mapping) else None
    if not unit_name or dimension_of(column) is None:
        return False
    try:
        return unit_factor(column, unit_name) != 1.0
    except LandkitError:
        return True  # a unit landkit no longer knows: do not claim the planner's name


def read_source_names(folder: Path | None, layer: str) -> dict[str, str]:
    """Return :func:`source_names` of the run in ``folder`` (its ``manifest.json``).

    Empty, with a note in the log, when there is no folder (a database run), or its manifest
    cannot be read or records no ``source_columns`` (a run older than them): every field then
    takes landkit's name, also with ``--names source``.
    """
    if folder is None:
        log.info("a database run records no source columns: fields take landkit's names")
        return {}
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.info("%s cannot be read (%s): fields take landkit's names", path, exc)
        return {}
    if not isinstance(manifest, Mapping) or "source_columns" not in manifest:
        log.info("%s records no source columns (a run of an older landkit): fields take landkit's names", path)
        return {}
    return source_names(manifest, layer)


def default_name_style(path: Path, *, lang: str = "zh", encoding: str = "gbk") -> str:
    """Return the field names a planner would choose for an export to ``path``.

    A shapefile, GeoPackage or GeoJSON: ``source`` (their own names for the columns they
    supplied, Chinese ones for landkit's), but ``en`` when English is asked (``lang`` ``en``)
    and for a UTF-8 shapefile, whose 10-byte field names hold 3 Chinese characters: too few to
    read (亩均税得分 would be 亩得分). A workbook or CSV keeps its labelled headers in ``lang``
    (Chinese with units: 出让年份(年)), the planner's names only when asked (``source``).
    """
    suffix = Path(path).suffix.lower()
    if lang == "en":
        return "en"
    if suffix in (".xlsx", ".csv"):
        return "zh"
    if suffix == ".shp" and _codec(encoding) == "utf-8":
        return "en"
    return "source"


def dictionary_path(path: Path) -> Path:
    """Return the data dictionary written beside an export: ``<name>_fields.csv``."""
    return Path(path).with_name(Path(path).stem + "_fields.csv")


def export_files(path: Path, style: str = "en") -> list[Path]:
    """Return the files :func:`export_layer` writes for ``path`` (every part of a shapefile, the dictionary)."""
    suffix = Path(path).suffix.lower()
    dictionary = suffix == ".shp" or (style != "en" and suffix in (".gpkg", ".geojson", ".json"))
    return vector_parts(Path(path)) + ([dictionary_path(path)] if dictionary else [])


def data_dictionary(fields: Mapping[str, str], labels: Mapping[str, Label],
                    sources: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Return the data dictionary of an export: field name, column, Chinese and English labels, unit,
    and the planner's column the field was read from (empty for landkit's own columns)."""
    sources = sources or {}
    rows = []
    for column, short in fields.items():
        label = labels.get(column, Label(column, column))
        rows.append({"field": short, "column": column, "label_zh": label.zh, "label_en": label.en, "unit": label.unit,
                     "source": sources.get(column, "")})
    return pd.DataFrame(rows, columns=["field", "column", "label_zh", "label_en", "unit", "source"])


def _write_dictionary(path: Path, table: pd.DataFrame) -> Path:
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8-sig")
    return path


def _cut_text(value: object, encoding: str) -> object:
    if not isinstance(value, str):
        return value
    value = substituted(value, encoding)
    data = value.encode(encoding, errors="replace")
    if len(data) <= SHAPEFILE_STRING_BYTES:
        return value.encode(encoding, errors="replace").decode(encoding)
    return data[:SHAPEFILE_STRING_BYTES].decode(encoding, errors="ignore")


def _warn_unencodable(layer: pd.DataFrame, columns: list[str], codec: str, path: Path) -> None:
    """Say which rows hold text the encoding cannot (emoji, 𠀀 in GBK): they will show ``?``."""
    if codec != "gbk":
        return

    def lost(value: object) -> bool:
        if not isinstance(value, str):
            return False
        try:
            substituted(value, codec).encode(codec)
        except UnicodeEncodeError:
            return True
        return False

    bad = {c: layer[c].map(lost) for c in columns if layer[c].dtype == object or pd.api.types.is_string_dtype(layer[c])}
    hit = {c: m for c, m in bad.items() if m.any()}
    if not hit:
        return
    rows = pd.concat(hit.values(), axis=1).any(axis=1)
    ids = layer.loc[rows, "parcel_id"].astype(str).head(5).tolist() if "parcel_id" in layer else [str(i) for i in layer.index[rows][:5]]
    log.warning("%s", _("{path}: {n} row(s) hold characters GBK cannot store (columns {columns}; e.g. {ids}): they are "
                        "written as `?`; export with --encoding gb18030 to keep them").format(
        path=path, n=int(rows.sum()), columns=", ".join(hit), ids=", ".join(ids)))


def write_shapefile(path: Path, layer: gpd.GeoDataFrame, labels: Mapping[str, Label], *, encoding: str = "utf-8",
                    style: str = "en", sources: Mapping[str, str] | None = None) -> list[Path]:
    """Write a layer as a shapefile with its data dictionary; return the files written.

    Field names are :func:`shapefile_field_names` in ``style`` (``sources``: column → the
    planner's column); the ``.cpg`` names the encoding, and the dictionary
    (``<name>_fields.csv``, UTF-8 with BOM) gives each field's column, labels, unit and source.
    Characters the encoding cannot hold (rare outside GBK) become ``?``, with a warning naming
    the rows and the way out (``gb18030``); strings longer than 254 bytes are cut at a
    character boundary.
    """
    codec = _codec(encoding)
    columns = [c for c in layer.columns if c != layer.geometry.name]
    _warn_unencodable(layer, columns, codec, path)
    fields = shapefile_field_names(columns, labels, codec, style=style, sources=sources)
    frame = layer.rename(columns=fields)
    for column in frame.columns:
        if column == frame.geometry.name:
            continue
        series = frame[column]
        if series.dtype == object or pd.api.types.is_string_dtype(series):
            frame[column] = series.map(lambda v: _cut_text(v, codec)).astype(object)
        elif pd.api.types.is_bool_dtype(series):
            frame[column] = series.astype("Int64") if series.hasnans else series.astype(int)
    shp = write_vector(Path(path), frame, encoding=codec.upper())
    dictionary = _write_dictionary(dictionary_path(path), data_dictionary(fields, labels, sources))
    return [shp, dictionary]


def write_named_vector(path: Path, layer: gpd.GeoDataFrame, labels: Mapping[str, Label], *, style: str = "en",
                       sources: Mapping[str, str] | None = None, layer_name: str = "layer") -> list[Path]:
    """Write a layer as GeoPackage or GeoJSON with the field names of ``style`` (:func:`full_field_names`).

    With landkit's own names (``en``) the file alone is written, as the run holds it; with any
    other, the data dictionary ``<name>_fields.csv`` beside it.
    """
    columns = [c for c in layer.columns if c != layer.geometry.name]
    fields = full_field_names(columns, labels, style=style, sources=sources)
    frame = layer.rename(columns=fields)
    if Path(path).suffix.lower() == ".gpkg":
        written = [write_layers(Path(path), {layer_name: frame})]
    else:
        written = [write_vector(Path(path), frame.to_crs("EPSG:4326"))]
    if style != "en":
        written.append(_write_dictionary(dictionary_path(path), data_dictionary(fields, labels, sources)))
    return written




def export_layer(
    path: Path,
    layer: gpd.GeoDataFrame,
    labels: Mapping[str, Label],
    *,
    encoding: str = "utf-8",
    lang: str = "zh",
    layer_name: str = "layer",
    values: Mapping[str, Mapping[str, str]] | None = None,
    names: str = "en",
    sources: Mapping[str, str] | None = None,
) -> list[Path]:
    """Write a layer in the format the suffix names: .shp, .gpkg, .geojson, .xlsx or .csv.

    Parameters
    ----------
    path : Path
        The file; its suffix names the format.
    layer : GeoDataFrame
        The layer, with landkit's column names.
    labels : mapping
        The label table (:func:`landkit.deliver.labels.labels_for`).
    encoding : str
        Of a shapefile: ``utf-8``, ``gbk`` or ``gb18030``.
    lang : str
        Of the headers and coded values of .xlsx and .csv.
    layer_name : str
        The layer's (sheet's) name in a GeoPackage (workbook).
    values : mapping, optional
        Column → code → shown value in .xlsx and .csv; default
        :func:`landkit.deliver.labels.value_labels` without a project (the default profile's track names).
    names : {"en", "zh", "source"}
        The style of field names (:data:`NAME_STYLES`): a shapefile's are
        :func:`shapefile_field_names`, a GeoPackage's and GeoJSON's :func:`full_field_names`;
        tables keep their labelled headers in ``lang``, and with ``source`` the planner's name
        on each column read from their files.
    sources : mapping, optional
        Column → the planner's column it was read from (:func:`source_names`).

    Returns
    -------
    list of Path
        The files written (see :func:`export_files`).
    """
    _check_style(names)
    suffix = Path(path).suffix.lower()
    if suffix == ".shp":
        return write_shapefile(path, layer, labels, encoding=encoding, style=names, sources=sources)
    if suffix in (".gpkg", ".geojson", ".json"):
        return write_named_vector(path, layer, labels, style=names, sources=sources, layer_name=layer_name)
    headers = table_headers([str(c) for c in _plain(layer).columns], labels, lang=lang, style=names, sources=sources)
    if suffix == ".xlsx":
        return [write_excel(path, {layer_name: layer}, labels, lang=lang, values=values, headers=headers)]
    if suffix == ".csv":
        return [write_csv(path, layer, labels, lang=lang, values=values, headers=headers)]
    raise LandkitError(_("{path}: unknown export format `{suffix}`; use .shp, .gpkg, .geojson, .xlsx or .csv").format(
        path=path, suffix=suffix))
