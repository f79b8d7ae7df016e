/* landkit map: builds the thematic layers, legends, search and popups from the embedded data.
 *
 * Our own code, written for landkit: Leaflet (inlined beside it) draws; this file turns the
 * compact columnar payload landkit writes (integer, delta-encoded coordinates and one array per
 * attribute) into canvas-rendered layers lazily, the first time each is shown. All text from the
 * data reaches the page through textContent, never innerHTML, so it can never become markup.
 */
(function () {
  "use strict";

  // Geometry of a dataset: g.c = delta-encoded integer coordinates (x, y pairs, each ring
  // starting absolute); g.r, g.p, g.f = vertices per ring, rings per part, parts per feature
  // (null when all are 1), turned by offsets() into start indices ending with the total.
  function offsets(counts, n) {
    var out = new Array(n + 1);
    out[0] = 0;
    for (var i = 0; i < n; i++) out[i + 1] = out[i] + (counts ? counts[i] : 1);
    return out;
  }

  function expandColumn(v) {
    if (v === null || Array.isArray(v)) return v;
    return v.k.map(function (code) { return code < 0 ? null : v.d[code]; });  // dictionary-encoded text
  }

  function prepareGeometry(g, nFeatures) {
    var f = offsets(g.f, nFeatures), p = offsets(g.p, f[nFeatures]), r = offsets(g.r, p[f[nFeatures]]);
    return { c: g.c, r: r, p: p, f: f };
  }

  function decodeFeature(g, i, scale) {
    var parts = [];
    for (var p = g.f[i]; p < g.f[i + 1]; p++) {
      var rings = [];
      for (var r = g.p[p]; r < g.p[p + 1]; r++) {
        var ring = [], x = 0, y = 0;
        for (var k = g.r[r]; k < g.r[r + 1]; k++) {
          x = (k === g.r[r]) ? g.c[2 * k] : x + g.c[2 * k];
          y = (k === g.r[r]) ? g.c[2 * k + 1] : y + g.c[2 * k + 1];
          ring.push([y / scale, x / scale]);
        }
        rings.push(ring);
      }
      parts.push(rings);
    }
    return parts;
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // A value as people read it: codes by the config's names (cfg.codes: column -> code -> text, in
  // the map's language), booleans as yes/no, numbers with the language's separators.
  function makeFormatter(cfg) {
    var codes = cfg.codes || {}, yesNo = cfg.booleans || ["yes", "no"];
    var locale = cfg.lang === "zh" ? "zh-CN" : "en-US";
    return function formatValue(value, field) {
      if (value === null || value === undefined || value === "") return null;
      if (typeof value === "boolean") return value ? yesNo[0] : yesNo[1];
      if (typeof value === "number") {
        if (/(^|_)year$/.test(field)) return String(value);  // 2026, not 2,026
        return value.toLocaleString(locale, { maximumFractionDigits: 2 });
      }
      var names = codes[field], text = String(value);
      return names && Object.prototype.hasOwnProperty.call(names, text) ? names[text] : text;
    };
  }

  function landkitInit(map, cfg) {
    var scale = cfg.scale, renderer = L.canvas({ padding: 0.5, tolerance: 3 });
    var formatValue = makeFormatter(cfg);
    var datasets = {}, api = { map: map, layers: {}, datasets: datasets };
    window.landkit = api;

    Object.keys(cfg.datasets).forEach(function (name) {
      var d = cfg.datasets[name];
      d.name = name;
      Object.keys(d.props).forEach(function (f) { d.props[f] = expandColumn(d.props[f]); });
      d.ids = typeof d.ids === "string" ? d.props[d.ids] : expandColumn(d.ids);  // a column's name: that attribute
      d.n = d.ids.length;
      d.geom = prepareGeometry(d.geom, d.n);
      d.decoded = null;
      datasets[name] = d;
    });

    function feature(d, i) {
      if (!d.decoded) d.decoded = new Array(d.n);
      if (!d.decoded[i]) d.decoded[i] = decodeFeature(d.geom, i, scale);
      return d.decoded[i];
    }

    function popupContent(d, i) {
      var box = el("div", "landkit-popup"), table = el("table");
      d.fields.forEach(function (f) {
        var text = formatValue(d.props[f[0]][i], f[0]);
        if (text === null) return;
        var row = el("tr");
        row.appendChild(el("th", null, f[2] ? f[1] + " (" + f[2] + ")" : f[1]));
        row.appendChild(el("td", null, text));
        table.appendChild(row);
      });
      box.appendChild(table);
      return box;
    }

    function featureBounds(d, i) {
      var b = L.latLngBounds([]);
      feature(d, i).forEach(function (part) { part.forEach(function (ring) { b.extend(ring); }); });
      return b;
    }

    function openPopup(d, i, latlng) {
      L.popup({ maxWidth: 360 }).setLatLng(latlng || featureBounds(d, i).getCenter())
        .setContent(popupContent(d, i)).openOn(map);
    }

    var tooltip = L.tooltip({ sticky: true, direction: "top", opacity: 0.9 });

    function styleFor(spec, d, i) {
      var base = spec.style || {};
      var style = { renderer: renderer, weight: base.weight || 0.5, color: base.color || "#444",
                    opacity: base.opacity === undefined ? 0.9 : base.opacity,
                    fillOpacity: base.fillOpacity === undefined ? 0.75 : base.fillOpacity,
                    fill: d.kind !== "line" && base.fill !== false, interactive: spec.popup !== false };
      if (base.dashArray) style.dashArray = base.dashArray;
      if (spec.mode === "category") {
        var v = d.props[spec.field][i];
        var fill = spec.colors[v === null ? "" : String(v)] || spec.missing || "#cccccc";
        style.fillColor = fill;
        if (!style.fill) style.color = fill;  // lines and outlines take the category's colour
      } else if (spec.mode === "ramp") {
        var x = d.props[spec.field][i];
        style.fillColor = x === null ? (spec.missing || "#cccccc") : ramp(spec, x);
      } else if (base.fillColor) {
        style.fillColor = base.fillColor;
      }
      return style;
    }

    function ramp(spec, x) {
      var t = Math.max(0, Math.min(1, (x - spec.min) / ((spec.max - spec.min) || 1)));
      var stops = spec.stops, k = Math.min(stops.length - 2, Math.floor(t * (stops.length - 1)));
      var u = t * (stops.length - 1) - k, a = stops[k], b = stops[k + 1];
      var c = [0, 1, 2].map(function (j) { return Math.round(a[j] + (b[j] - a[j]) * u); });
      return "rgb(" + c.join(",") + ")";
    }

    function members(spec, d) {
      var keep = [];
      var flags = spec.filter ? d.props[spec.filter] : null;
      for (var i = 0; i < d.n; i++) if (!flags || flags[i]) keep.push(i);
      return keep;
    }

    // An outline (a polygon without fill) answers the mouse on its line only, so the parcels
    // inside it stay clickable.
    function strokeOnly(p) { return L.Polyline.prototype._containsPoint.call(this, p, true); }

    function shapeOf(spec, d, i) {
      var layer, g = feature(d, i), style = styleFor(spec, d, i);
      if (d.kind === "point") {
        style.radius = (spec.style && spec.style.radius) || 6;
        style.fillOpacity = 0.9;
        layer = L.circleMarker(g[0][0][0], style);
      } else if (d.kind === "line") {
        layer = L.polyline(g.map(function (part) { return part[0]; }), style);
      } else {
        layer = L.polygon(g, style);
        if (!style.fill) layer._containsPoint = strokeOnly;
      }
      layer._lk = i;
      return layer;
    }

    function populate(spec, d, group, keep) {
      keep.forEach(function (i) { group.addLayer(shapeOf(spec, d, i)); });
    }

    // Small plots (layers with spec.min_px): a polygon smaller than min_px pixels at the current
    // zoom (the geometric mean of its box's sides) is drawn as a dot min_px wide at its centre, and
    // again as the polygon once it is large enough. Each plot is in the group once, as one or the other.
    function smallPlots(spec, d, group, keep) {
      var plots = keep.map(function (i) {
        var shape = shapeOf(spec, d, i), box = shape.getBounds();
        var a = map.project(box.getSouthWest(), 0), b = map.project(box.getNorthEast(), 0);
        return { i: i, shape: shape, dot: null, centre: box.getCenter(),
                 size0: Math.sqrt(Math.abs(b.x - a.x) * Math.abs(b.y - a.y)) };
      });
      function dotOf(plot) {
        // Solid and without an outline: the dots of plots a few pixels apart merge into one patch of
        // the layer's colour rather than a tangle of outlines.
        var style = styleFor(spec, d, plot.i);
        var dot = L.circleMarker(plot.centre, { renderer: renderer, radius: spec.min_px / 2, fillColor: style.fillColor,
          fillOpacity: 1, stroke: false, interactive: style.interactive });
        dot._lk = plot.i;
        return dot;
      }
      return function fit() {  // true when a plot changed between dot and polygon
        var k = map.getZoomScale(map.getZoom(), 0), changed = false;
        plots.forEach(function (plot) {
          var small = plot.size0 * k < spec.min_px;
          if (small && !plot.dot) plot.dot = dotOf(plot);
          var show = small ? plot.dot : plot.shape, hide = small ? plot.shape : plot.dot;
          if (hide && group.hasLayer(hide)) { group.removeLayer(hide); changed = true; }
          if (!group.hasLayer(show)) { group.addLayer(show); changed = true; }
        });
        return changed;
      };
    }

    // Stacking: whichever was switched on first, a layer of higher spec.z (then a later one) is
    // drawn above, so an overlay never hides under the grades switched on after it.
    var stack = [];
    function restackAbove(entry) {
      stack.forEach(function (other) {
        if (other.rank > entry.rank && map.hasLayer(other.group)) other.group.bringToFront();
      });
    }

    var legendBox = el("div", "landkit-legends");

    // How a layer's features look, for its legend's swatches: filled, outline (dashed or not), line, point.
    function lookOf(spec, d) {
      var base = spec.style || {};
      if (!d || d.kind === "polygon") return base.fill === false ? (base.dashArray ? "dashed" : "outline") : "fill";
      return d.kind;  // "line" or "point"
    }

    function swatch(colour, look) {
      var sw = el("span", "landkit-swatch landkit-swatch-" + look);
      if (look === "fill" || look === "point") sw.style.backgroundColor = colour;
      else sw.style.borderColor = colour;
      return sw;
    }

    // A legend (hidden until its layer is shown): a colour ramp and/or swatches drawn as the layer
    // draws its features, and a note.
    function makeLegend(key, spec, stops, look) {
      var legend = el("div", "landkit-legend");
      legend.setAttribute("data-layer", key);
      legend.appendChild(el("div", "landkit-legend-title", spec.title));
      if (spec.ramp) {
        var bar = el("div", "landkit-ramp");
        bar.style.background = "linear-gradient(to right," + stops.map(function (s) { return "rgb(" + s.join(",") + ")"; }).join(",") + ")";
        legend.appendChild(bar);
        var labels = el("div", "landkit-ramp-labels");
        labels.appendChild(el("span", null, spec.ramp[0]));
        labels.appendChild(el("span", null, spec.ramp[1]));
        legend.appendChild(labels);
      }
      (spec.items || []).forEach(function (item) {
        var row = el("div");
        row.appendChild(swatch(item[0], look));
        row.appendChild(el("span", null, item[1]));
        legend.appendChild(row);
      });
      if (spec.note) legend.appendChild(el("div", "landkit-legend-note", spec.note));
      legend.style.display = "none";
      legendBox.appendChild(legend);
      return legend;
    }
    var overlays = {};
    cfg.layers.forEach(function (spec, index) {
      var d = datasets[spec.dataset];
      var keep = members(spec, d);
      var group = L.featureGroup();
      var fit = null, filled = false;
      var legend = spec.legend ? makeLegend(spec.key, spec.legend, spec.stops, lookOf(spec, d)) : null;
      var entry = { rank: (spec.z === undefined ? 2 : spec.z) * 10000 + index, group: group };
      var small = spec.min_px > 0 && d.kind === "polygon";
      stack.push(entry);
      group.on("add", function () {
        if (!filled) {
          if (small) fit = smallPlots(spec, d, group, keep); else populate(spec, d, group, keep);
          filled = true;
        }
        if (fit) fit();
        restackAbove(entry);
        if (legend) legend.style.display = "";
      });
      if (small) map.on("zoomend", function () { if (fit && map.hasLayer(group) && fit()) restackAbove(entry); });
      group.on("remove", function () { if (legend) legend.style.display = "none"; });
      if (spec.popup !== false) {
        group.on("click", function (e) { openPopup(d, e.layer._lk, e.latlng); });
        if (spec.tooltip) {
          group.on("mouseover", function (e) {
            var i = e.layer._lk, parts = spec.tooltip.map(function (f) { return formatValue(d.props[f][i], f); });
            // An element, not a string: Leaflet would parse a string as HTML.
            tooltip.setContent(el("span", null, parts.filter(function (p) { return p !== null; }).join(" · ")));
            tooltip.setLatLng(e.latlng); map.openTooltip(tooltip);
          });
          group.on("mouseout", function () { map.closeTooltip(tooltip); });
        }
      }
      overlays[spec.title] = group;
      api.layers[spec.key] = { title: spec.title, count: keep.length, layer: group, legend: legend };
      if (spec.on) group.addTo(map);
    });

    (cfg.images || []).forEach(function (img) {
      var overlay = L.imageOverlay(img.url, img.bounds, { opacity: 0.75, interactive: false });
      var legend = makeLegend(img.key, img.legend, img.stops, "fill");
      overlay.on("add", function () { legend.style.display = ""; });
      overlay.on("remove", function () { legend.style.display = "none"; });
      overlays[img.title] = overlay;
      api.layers[img.key] = { title: img.title, count: 1, layer: overlay, legend: legend };
    });

    var bases = {};
    cfg.basemaps.forEach(function (b, k) {
      var layer = b.url ? L.tileLayer(b.url, { attribution: b.attribution, subdomains: b.subdomains || "abc", maxZoom: 19 })
                        : L.layerGroup();
      if (b.overlay) layer = L.layerGroup([layer, L.tileLayer(b.overlay, { subdomains: b.subdomains || "abc", maxZoom: 19 })]);
      bases[b.title] = layer;
      if (k === 0) layer.addTo(map);
    });
    if (!cfg.basemaps[0].url) map.getContainer().classList.add("landkit-plain");
    L.control.layers(bases, overlays, { collapsed: false, position: "topright" }).addTo(map);

    // Legends bottom left, the layer list top right: with every layer on they never cover each other.
    var Legends = L.Control.extend({ options: { position: "bottomleft" },
      onAdd: function () { L.DomEvent.disableClickPropagation(legendBox); return legendBox; } });
    new Legends().addTo(map);

    var Title = L.Control.extend({ options: { position: "topleft" },
      onAdd: function () {
        var box = el("div", "landkit-title", cfg.title);
        if (cfg.subtitle) box.appendChild(el("small", null, cfg.subtitle));
        return box;
      } });
    new Title().addTo(map);

    // Search: parcel id or enterprise name, over the searchable dataset.
    var sd = datasets[cfg.search.dataset];
    var haystack = sd ? sd.ids.map(function (id, i) {
      var names = cfg.search.fields.map(function (f) { return sd.props[f][i] || ""; }).join(" ");
      return (String(id) + " " + names).toLowerCase();
    }) : [];
    api.search = function (query) {
      var q = String(query || "").trim().toLowerCase(), hits = [];
      if (!q || !sd) return hits;
      for (var i = 0; i < haystack.length && hits.length < 20; i++) if (haystack[i].indexOf(q) >= 0) hits.push(sd.ids[i]);
      return hits;
    };
    api.select = function (id) {
      var i = sd.ids.indexOf(id);
      if (i < 0) return false;
      map.fitBounds(featureBounds(sd, i), { maxZoom: 17, animate: false });
      openPopup(sd, i);
      return true;
    };
    var Search = L.Control.extend({ options: { position: "topleft" },
      onAdd: function () {
        var box = el("div", "landkit-search");
        var input = el("input");
        input.id = "landkit-search";
        input.type = "search";
        input.placeholder = cfg.search.placeholder;
        var list = el("ul");
        list.id = "landkit-search-results";
        box.appendChild(input);
        box.appendChild(list);
        function show() {
          list.textContent = "";
          api.search(input.value).forEach(function (id) {
            var i = sd.ids.indexOf(id);
            var name = cfg.search.fields.map(function (f) { return sd.props[f][i] || ""; }).join(" ");
            var item = el("li", null, name ? id + " · " + name : id);
            item.addEventListener("click", function () { api.select(id); });
            list.appendChild(item);
          });
        }
        input.addEventListener("input", show);
        input.addEventListener("keydown", function (e) {
          if (e.key === "Enter") { var hits = api.search(input.value); if (hits.length) api.select(hits[0]); }
        });
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        return box;
      } });
    new Search().addTo(map);

    if (map.attributionControl) map.attributionControl.setPrefix("Leaflet");  // plain text, no flag icon
    if (cfg.bounds) map.fitBounds(cfg.bounds, { animate: false });
    return api;
  }

  // The page's data: a JSON block, or for a large map a gzip-compressed, base64 block that the
  // browser's own DecompressionStream inflates (Chrome/Edge 80+, Firefox 113+, Safari 16.4+).
  function landkitStart(map) {
    var plain = document.getElementById("landkit-data");
    if (plain) {
      landkitInit(map, JSON.parse(plain.textContent));
      window.landkitReady = Promise.resolve(window.landkit);
      return;
    }
    var packed = document.getElementById("landkit-data-gz");
    if (typeof DecompressionStream === "undefined") {
      var note = el("div", "landkit-title", packed.getAttribute("data-old-browser"));
      map.getContainer().appendChild(note);
      window.landkitReady = Promise.reject(new Error("DecompressionStream unsupported"));
      return;
    }
    var binary = atob(packed.textContent.trim()), bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    window.landkitReady = new Response(stream).text().then(function (text) {
      return landkitInit(map, JSON.parse(text));
    });
  }

  window.landkitInit = landkitInit;
  window.landkitStart = landkitStart;
})();
