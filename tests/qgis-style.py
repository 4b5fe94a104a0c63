"""QGIS opens careshed.gpkg styled (issue 15): each layer loads from the package with
its default style from layer_styles, and a map rendered headless shows the styles; and
it opens demand.fgb beside it, typed, through its spatial index.

    python3 tests/qgis-style.py PACKAGE PNG

Run by tests/qgis-style.sh, which makes the package from the bundled sample and skips
when python3-qgis is absent. Expected values are the sample's, counted by hand from
geodata/study.yaml and the report's palette (src/out/palette.c)."""
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import (QgsApplication, QgsCoordinateReferenceSystem, QgsMapRendererParallelJob,
                       QgsMapSettings, QgsVectorLayer)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

package, png = sys.argv[1], sys.argv[2]
# layer -> (renderer, attribute, categories); None: not checked
EXPECTED = {
    "areas": ("graduatedSymbol", "centre_walk_15min_a60p_share", None),
    "facilities": ("categorizedSymbol", "kind", 4),
    "service_circles": ("categorizedSymbol", None, 4 * 3 * 2),
    "service_network": ("categorizedSymbol", None, 4 * 3),
    "underserved": ("categorizedSymbol", "kind", 4),
}
# the report's kind colours (Okabe-Ito) and marker shapes, in the study's kind order
KIND_COLOURS = ["#e69f00", "#56b4e9", "#009e73", "#f0e442"]
SHAPES = ["circle", "square", "triangle", "diamond"]
FEATURES = {"areas": 14, "facilities": 328, "service_circles": 24, "service_network": 12}

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL:", what)


app = QgsApplication([], False)
app.initQgis()
layers = {}
for name, (renderer, attr, categories) in EXPECTED.items():
    layer = QgsVectorLayer(f"{package}|layername={name}", name, "ogr")
    check(layer.isValid(), f"{name} loads")
    if not layer.isValid():
        continue
    layers[name] = layer
    if name in FEATURES:
        check(layer.featureCount() == FEATURES[name],
              f"{name}: {layer.featureCount()} features, not {FEATURES[name]}")
    # the style is in the package, as the layer's default
    # the package holds its style (listed first: the styles of this layer)
    count, ids, names, descriptions, error = layer.listStylesInDatabase()
    check(count == 1 and names[0] == name, f"{name}: {count} styles of its own in layer_styles ({error})")
    r = layer.renderer()
    check(r is not None and r.type() == renderer,
          f"{name}: renderer {r.type() if r else None}, not {renderer}")
    if r is None or r.type() != renderer:
        continue
    if attr:
        check(r.classAttribute() == attr, f"{name}: classified by {r.classAttribute()}, not {attr}")
    if categories is not None:
        check(len(r.categories()) == categories,
              f"{name}: {len(r.categories())} categories, not {categories}")
    if name == "areas":
        check(len(r.ranges()) == 5, f"areas: {len(r.ranges())} classes, not 5")
        check(layer.labelsEnabled() and layer.labeling().settings().fieldName == "name",
              "areas: labelled with the street's name")
    if name == "facilities":
        for k, cat in enumerate(r.categories()):
            sl = cat.symbol().symbolLayer(0)
            check(sl.color().name() == KIND_COLOURS[k],
                  f"facilities: kind {cat.value()} is {sl.color().name()}, not {KIND_COLOURS[k]}")
            check(sl.properties().get("name") == SHAPES[k],
                  f"facilities: kind {cat.value()} is a {sl.properties().get('name')}, not a {SHAPES[k]}")

# a map of the streets, service areas, patches and facilities, as QGIS draws them
order = [layers[n] for n in ("facilities", "underserved", "service_circles", "areas") if n in layers]
settings = QgsMapSettings()
settings.setLayers(order)
settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
if "areas" in layers:
    settings.setExtent(layers["areas"].extent())
settings.setOutputSize(QSize(800, 800))
settings.setBackgroundColor(QColor(255, 255, 255))
job = QgsMapRendererParallelJob(settings)
job.start()
job.waitForFinished()
image = job.renderedImage()
image.save(png, "png")
# the demand layer beside the package (demand.fgb, careshed's own FlatGeobuf writer):
# QGIS opens it, with every demand point of the sample (geodata/population.csv's rows),
# its fields typed, and finds points through its spatial index
demand = QgsVectorLayer(os.path.join(os.path.dirname(package), "demand.fgb"), "demand", "ogr")
check(demand.isValid(), "demand.fgb loads")
if demand.isValid():
    check(demand.featureCount() == 20000, f"demand: {demand.featureCount()} points, not 20000")
    fields = demand.fields()
    for field, kind in (("demand_no", "Integer64"), ("centre_walk_minutes", "Real"),
                        ("centre_walk_within_15min", "Boolean"), ("area_name", "String")):
        i = fields.indexOf(field)
        check(i >= 0 and fields[i].typeName() == kind,
              f"demand: field {field} is {fields[i].typeName() if i >= 0 else 'missing'}, not {kind}")
    from qgis.core import QgsFeatureRequest, QgsRectangle
    box = demand.extent()
    box.scale(0.2)
    inside = sum(1 for f in demand.getFeatures() if box.contains(f.geometry().asPoint()))
    found = sum(1 for f in demand.getFeatures(QgsFeatureRequest().setFilterRect(box))
                if box.contains(f.geometry().asPoint()))
    check(inside > 0 and found == inside, f"demand: {found} points through the index, {inside} in the box")
    # styled from demand.qml beside it: by whether the headline threshold covers them
    r = demand.renderer()
    check(r is not None and r.type() == "categorizedSymbol" and len(r.categories()) == 2
          and "centre_walk_within_15min" in r.classAttribute(),
          f"demand: styled from demand.qml ({r.type() if r else None})")
colours = {}
for y in range(0, image.height(), 2):
    for x in range(0, image.width(), 2):
        c = image.pixel(x, y) & 0xFFFFFF
        colours[c] = colours.get(c, 0) + 1
total = sum(colours.values())
white = colours.get(0xFFFFFF, 0)
check(total - white > total // 4, f"the map is {100 * white // total}% white")
check(len(colours) >= 8, f"the map has {len(colours)} colours")


def share(hex_colour):
    """The share of pixels of exactly this colour."""
    return colours.get(int(hex_colour[1:], 16), 0) / total


# the streets' shades (YlGnBu) and the facilities' colours are both on the map
check(sum(share(c) for c in ["#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"]) > 0.05,
      "the streets' shades cover more than 5% of the map")
check(sum(1 for c in KIND_COLOURS if share(c) > 0) >= 3, "facilities of 3 kinds or more drawn")
if failures:
    print(f"{len(failures)} checks failed")
else:
    print(f"QGIS: {len(layers)} layers styled from layer_styles; map in {png}, {len(colours)} colours")
sys.stdout.flush()
# PyQGIS may crash tearing down layers Python still holds: release them, close QGIS,
# and leave without running Python's own teardown
del job, settings, order, layers, layer, demand
app.exitQgis()
os._exit(1 if failures else 0)
