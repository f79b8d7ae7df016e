"""Canonical columns: the names landkit uses inside, whatever the planner's files call them.

Each input kind (parcels, enterprises, blocks, ...) has a table of canonical columns with a type
and whether it is required. The project configuration maps the planner's column names onto these
(``columns.parcels.parcel_id: 地块编号``); the default profile lists the common Chinese and English
names so that typical files work without any mapping. Units are part of the name (``_m2``, ``_wan``,
``_tce``, ``_yuan_m2``) and are converted on reading (see :mod:`landkit.core.units`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["str", "float", "int", "bool"]


@dataclass(frozen=True)
class Column:
    """A canonical column: its type and whether an input must provide it."""

    kind: Kind
    required: bool = False


#: Canonical columns of each input, in output order.
CANONICAL: dict[str, dict[str, Column]] = {
    "parcels": {
        "parcel_id": Column("str", required=True),
        "land_use": Column("str", required=True),
        "status": Column("str"),
        "lease_start_year": Column("int"),
        "lease_end_year": Column("int"),
        "production_start_year": Column("int"),
        "agreed_start_year": Column("int"),
        "idle_since_year": Column("int"),
        "stopped_since_year": Column("int"),
        "floor_area_m2": Column("float"),
        "footprint_m2": Column("float"),
        "yard_m2": Column("float"),
        "structure": Column("str"),
        "illegal_use": Column("bool"),
        "block_id": Column("str"),
        "town": Column("str"),
        "ownership": Column("str"),
        "zone_type": Column("str"),
        "vacancy_rate": Column("float"),
        "floor_load_t_m2": Column("float"),
        "storey_height_m": Column("float"),
        "freight_lift_t": Column("float"),
        "fire_class": Column("str"),
        "willing_to_sell": Column("bool"),
    },
    "enterprises": {
        "enterprise_id": Column("str", required=True),
        "parcel_id": Column("str", required=True),
        "enterprise_name": Column("str"),
        "industry": Column("str"),
        "tax_wan": Column("float"),
        "revenue_wan": Column("float"),
        "value_added_wan": Column("float"),
        "employees": Column("float"),
        "rd_spend_wan": Column("float"),
        "energy_tce": Column("float"),
        "electricity_kwh": Column("float"),
        "emission_t": Column("float"),
        "high_tech": Column("bool"),
        "founded_year": Column("int"),
        "segment": Column("str"),
        "champion": Column("bool"),
        "chain_leader": Column("bool"),
        "pct_filings": Column("float"),
        "talents": Column("float"),
        "industrial_output_wan": Column("float"),
    },
    "blocks": {
        "block_id": Column("str", required=True),
        "block_name": Column("str"),
        "block_type": Column("str"),
        "ring": Column("str"),
    },
    "roads": {
        "road_name": Column("str"),
        "road_class": Column("str"),
        "speed_kmh": Column("float"),
        "oneway": Column("bool"),
    },
    "core_sites": {
        "site_name": Column("str", required=True),
        "site_type": Column("str"),
    },
    "land_price": {
        "price_zone": Column("str", required=True),
        "price_use": Column("str"),
        "land_price_yuan_m2": Column("float", required=True),
    },
    "price_zones": {
        "price_zone": Column("str", required=True),
    },
    "facilities": {
        "facility_kind": Column("str", required=True),
        "facility_name": Column("str"),
    },
    "overrides": {  # decisions on top of the computed results (landkit.data.overrides)
        "parcel_id": Column("str", required=True),
        "field": Column("str", required=True),
        "value": Column("str", required=True),
        "reason": Column("str", required=True),
        "approved_by": Column("str"),
        "approved_date": Column("str"),
    },
    "objections": {  # the 公示/异议 register
        "objection_id": Column("str", required=True),
        "parcel_id": Column("str", required=True),
        "objection_status": Column("str", required=True),
        "enterprise_name": Column("str"),
        "received_date": Column("str"),
        "subject": Column("str"),
        "decision_date": Column("str"),
        "note": Column("str"),
    },
}

#: Inputs that carry geometry.
SPATIAL = frozenset({"parcels", "blocks", "roads", "core_sites", "price_zones", "facilities"})

#: Enterprise columns that are summed per parcel (and shared by area when a firm spans parcels).
ADDITIVE_ENTERPRISE_COLUMNS = (
    "tax_wan",
    "revenue_wan",
    "value_added_wan",
    "employees",
    "rd_spend_wan",
    "energy_tce",
    "electricity_kwh",
    "emission_t",
)

#: Canonical parcel status values (raw values are mapped onto these by ``values.status``).
STATUSES = ("operating", "idle", "stopped", "construction", "unsupplied")

#: Canonical land ownership (raw values mapped by ``values.ownership``): state-owned land,
#: collective construction land (集体建设用地), and state-owned carriers operated by the park's
#: platform (国有载体, plan item 13).
OWNERSHIPS = ("state", "collective", "platform")

#: Fire hazard classes of production (GB 50016-2014 建筑设计防火规范 3.1.1: 甲 乙 丙 丁 戊).
FIRE_CLASSES = ("甲", "乙", "丙", "丁", "戊")

#: Kinds of public-service facility (plan item 12; raw values mapped by ``values.facility_kind``).
FACILITY_KINDS = ("talent_housing", "school", "clinic", "canteen", "transit", "incubator")

#: Status of an objection (异议) to the published list: received (已受理), upheld (异议成立: the
#: enterprise is right, a decision follows), rejected (驳回).
OBJECTION_STATUSES = ("received", "upheld", "rejected")

#: Text columns whose raw values are mapped onto a vocabulary (``values.<column>``).
CODED_COLUMNS = ("status", "ownership", "fire_class", "facility_kind", "objection_status")


def is_missing(value: object) -> bool:
    """Return whether one value is missing: None, NaN, ``pd.NA`` or ``NaT`` (a list or an array is not).

    The one test of a missing cell for the tables landkit writes and reads back (history, compare,
    the report); vectorised code uses ``Series.isna`` instead.
    """
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # an array or a list: a value, not a missing one
        return False

