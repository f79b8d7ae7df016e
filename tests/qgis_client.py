"""Open layers in QGIS headless and print what a planner's QGIS shows: run by Debian's python3.

Not a test module: :mod:`test_qgis_styles` runs it with ``/usr/bin/python3`` (QGIS's Python
bindings, ``python3-qgis``, are built for the system Python, not the test virtual environment).
Reads a JSON list of ``{"name", "uri", "provider"}`` on stdin and writes, per layer, whether it is
valid, its feature count, its renderer's type and attribute, its fields' aliases and value maps,
as JSON on stdout.
"""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import QgsApplication, QgsVectorLayer

app = QgsApplication([], False)
app.initQgis()
out = {}
for spec in json.load(sys.stdin):
    layer = QgsVectorLayer(spec["uri"], spec["name"], spec["provider"])
    if not layer.isValid():
        out[spec["name"]] = {"valid": False, "error": layer.error().summary()}
        del layer
        continue
    renderer = layer.renderer()
    fields = layer.fields()
    setups = {f.name(): layer.editorWidgetSetup(i) for i, f in enumerate(fields)}
    out[spec["name"]] = {
        "valid": True,
        "features": layer.featureCount(),
        "renderer": renderer.type(),
        "attribute": renderer.classAttribute() if hasattr(renderer, "classAttribute") else None,
        "aliases": {f.name(): f.alias() for f in fields if f.alias()},
        "value_maps": {name: {code: shown for entry in s.config().get("map", []) for shown, code in entry.items()}
                       for name, s in setups.items() if s.type() == "ValueMap"},
    }
    del layer, renderer, fields, setups
json.dump(out, sys.stdout, ensure_ascii=False)
sys.stdout.flush()
# QGIS 3.22's teardown can crash after the work (layers freed after exitQgis): skip it, output written
os._exit(0)
