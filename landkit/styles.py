"""QGIS layer styles stored in the GeoPackage, so grades and paths show in colour on opening.

QGIS looks for a ``layer_styles`` table in a GeoPackage (the table it writes itself through
OGR with "Save as default style in the database") and applies the row with ``useAsDefault``
for a layer. We write the same table, with a categorised renderer in QGIS's QML format.
"""

from __future__ import annotations

from datetime import datetime, timezone
from xml.sax.saxutils import quoteattr

import pandas as pd

QML_HEAD = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"


def _rgba(hex_colour: str, alpha: int = 255) -> str:
    h = hex_colour.lstrip("#")
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha}"


def _fill_symbol(name: str, colour: str) -> str:
    return (
        f'<symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        '<layer class="SimpleFill" enabled="1" pass="0" locked="0"><Option type="Map">'
        f'<Option type="QString" name="color" value="{_rgba(colour)}"/>'
        '<Option type="QString" name="outline_color" value="60,60,60,255"/>'
        '<Option type="QString" name="outline_style" value="solid"/>'
        '<Option type="QString" name="outline_width" value="0.1"/>'
        '<Option type="QString" name="outline_width_unit" value="MM"/>'
        '<Option type="QString" name="style" value="solid"/>'
        "</Option></layer></symbol>"
    )


def categorized_qml(field: str, categories: list[tuple[str, str, str]]) -> str:
    """Return a QML document: a categorised fill renderer on ``field``.

    Parameters
    ----------
    field : str
        The attribute to categorise on.
    categories : list of (value, label, colour)
        One category per value, colour as ``#rrggbb``.
    """
    cats = "".join(
        f'<category value={quoteattr(value)} label={quoteattr(label)} symbol="{i}" render="true"/>'
        for i, (value, label, _) in enumerate(categories)
    )
    symbols = "".join(_fill_symbol(str(i), colour) for i, (_, _, colour) in enumerate(categories))
    return (
        f'{QML_HEAD}\n<qgis version="3.28.0" styleCategories="Symbology">'
        f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(field)} symbollevels="0" enableorderby="0" forceraster="0">'
        f"<categories>{cats}</categories><symbols>{symbols}</symbols></renderer-v2></qgis>"
    )


def layer_styles_table(styles: dict[str, tuple[str, str, str]], geometry_column: str = "geom") -> pd.DataFrame:
    """Return the ``layer_styles`` table: one default style per layer.

    Parameters
    ----------
    styles : dict
        Layer name → (style name, description, QML).
    """
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    rows = [
        {
            "f_table_catalog": "",
            "f_table_schema": "",
            "f_table_name": layer,
            "f_geometry_column": geometry_column,
            "styleName": name,
            "styleQML": qml,
            "styleSLD": "",
            "useAsDefault": True,
            "description": description,
            "owner": "landkit",
            "ui": "",
            "update_time": now,
        }
        for layer, (name, description, qml) in styles.items()
    ]
    return pd.DataFrame(rows)
