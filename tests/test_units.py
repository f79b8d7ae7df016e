"""Unit conversion: the factors, the dimension of a canonical name, and refused units."""

from __future__ import annotations

import pandas as pd
import pytest

from landkit.config.load import load_config
from landkit.core.errors import ConfigError
from landkit.core.units import M2_PER_HA, M2_PER_MU, dimension_of, to_ha, to_mu, unit_factor


@pytest.mark.parametrize(
    ("canonical", "unit", "expected"),
    [
        # area → m²: 1 亩 = 10000/15 m² (one fifteenth of a hectare), 1 公顷 = 10000 m²
        ("floor_area_m2", "m2", 1.0),
        ("floor_area_m2", "平方米", 1.0),
        ("floor_area_m2", "亩", 666.6666666666666),
        ("floor_area_m2", "mu", 666.6666666666666),
        ("floor_area_m2", "公顷", 10_000.0),
        ("footprint_m2", "ha", 10_000.0),
        # money → 万元
        ("tax_wan", "元", 0.0001),
        ("tax_wan", "yuan", 0.0001),
        ("revenue_wan", "万元", 1.0),
        ("revenue_wan", "亿元", 10_000.0),
        ("rd_spend_wan", "yi", 10_000.0),
        # unit price → 元/平方米: 1 万元/亩 = 10000 元 / 666.67 m² = 15 元/m²
        ("land_price_yuan_m2", "元/平方米", 1.0),
        ("land_price_yuan_m2", "万元/亩", 15.0),
        ("land_price_yuan_m2", "wan_mu", 15.0),
        # energy → tce
        ("energy_tce", "千克标准煤", 0.001),
        ("energy_tce", "万吨标准煤", 10_000.0),
    ],
)
def test_unit_factor(canonical, unit, expected):
    assert unit_factor(canonical, unit) == pytest.approx(expected, rel=1e-12)


def test_mu_and_hectare_constants():
    fifteen_mu = M2_PER_MU * 15
    assert fifteen_mu == pytest.approx(10_000, rel=1e-15)
    assert M2_PER_HA == 10_000
    # 1 公顷 = 15 亩
    assert unit_factor("floor_area_m2", "公顷") / unit_factor("floor_area_m2", "亩") == pytest.approx(15)


def test_conversions_by_hand():
    # 1,234,500 元 = 123.45 万元; 3 亿元 = 30,000 万元
    assert 1_234_500 * unit_factor("tax_wan", "元") == pytest.approx(123.45)
    assert 3 * unit_factor("revenue_wan", "亿元") == pytest.approx(30_000)
    # 12 亩 = 8000 m²; 2.5 公顷 = 25,000 m²
    assert 12 * unit_factor("floor_area_m2", "亩") == pytest.approx(8000)
    assert 2.5 * unit_factor("floor_area_m2", "公顷") == pytest.approx(25_000)
    # 元/平方米 ↔ 万元/亩: 10 万元/亩 = 150 元/m², so 3000 元/m² = 200 万元/亩
    assert 10 * unit_factor("land_price_yuan_m2", "万元/亩") == pytest.approx(150)
    assert 3000 / unit_factor("land_price_yuan_m2", "万元/亩") == pytest.approx(200)


def test_to_mu_and_to_ha():
    area = pd.Series([10_000.0, 2000.0, 0.0])
    assert to_mu(area).tolist() == pytest.approx([15.0, 3.0, 0.0])
    assert to_ha(area).tolist() == pytest.approx([1.0, 0.2, 0.0])
    assert to_mu(6_666.666666666667) == pytest.approx(10)


@pytest.mark.parametrize(
    ("canonical", "dimension"),
    [
        ("floor_area_m2", "m2"),
        ("footprint_m2", "m2"),
        ("land_price_yuan_m2", "yuan_m2"),  # the longer suffix wins over `m2`
        ("tax_wan", "wan"),
        ("value_added_wan", "wan"),
        ("energy_tce", "tce"),
        ("employees", None),
        ("parcel_id", None),
        ("lease_start_year", None),
        ("wan", None),  # a suffix needs its underscore
    ],
)
def test_dimension_of(canonical, dimension):
    assert dimension_of(canonical) == dimension


def test_bad_unit_names_the_allowed_units():
    with pytest.raises(ConfigError) as err:
        unit_factor("tax_wan", "美元")
    msg = str(err.value)
    assert "美元" in msg and "tax_wan" in msg
    for allowed in ("元", "万元", "亿元"):
        assert allowed in msg


def test_area_unit_on_a_money_column_is_refused():
    with pytest.raises(ConfigError, match=r"亩.*revenue_wan|revenue_wan.*亩") as err:
        unit_factor("revenue_wan", "亩")
    assert "万元" in str(err.value)


def test_unit_on_a_unitless_column_is_refused():
    with pytest.raises(ConfigError, match="employees"):
        unit_factor("employees", "人")


def test_bad_unit_in_the_project_is_a_config_error_listing_units():
    with pytest.raises(ConfigError) as err:
        load_config(overrides={"columns": {"parcels": {"floor_area_m2": {"column": "建筑面积", "unit": "平方尺"}}}})
    msg = str(err.value)
    assert "平方尺" in msg
    for allowed in ("m2", "平方米", "亩", "公顷"):
        assert allowed in msg
