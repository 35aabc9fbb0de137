// One-off derivation of the dashboard's bundled boundary data (run by hand, never at run time).
//
//   mkdir /tmp/atlas && cd /tmp/atlas && npm install world-atlas@2.0.2 topojson-client@3
//   node /path/to/repo/tools/derive_region_map.js /tmp/atlas \
//        > src/coalition/dashboard/static/map/region.json
//
// Input: Natural Earth 1:50m admin-0 countries (public domain) as redistributed by the npm
// package `world-atlas` (TopoJSON). Output: a small JSON file with Ukraine and its neighbours
// only, coordinates rounded to 0.02 degrees, clamped to a box a little larger than the map view
// (the SVG viewBox hides the clamped edges), consecutive duplicates removed.
"use strict";
const path = require("path");
const root = process.argv[2] || ".";
const topo = require(path.join(root, "node_modules/world-atlas/countries-50m.json"));
const topojson = require(path.join(root, "node_modules/topojson-client"));

// ISO 3166-1 numeric -> alpha-3 for the countries we draw.
const KEEP = {
  "804": "UKR", "616": "POL", "112": "BLR", "643": "RUS", "498": "MDA", "642": "ROU",
  "348": "HUN", "703": "SVK", "203": "CZE", "100": "BGR", "440": "LTU", "428": "LVA",
  "233": "EST", "276": "DEU", "040": "AUT", "688": "SRB", "792": "TUR", "268": "GEO",
  "191": "HRV", "070": "BIH", "705": "SVN", "499": "MNE", "008": "ALB", "807": "MKD",
  "300": "GRC", "208": "DNK", "752": "SWE", "246": "FIN", "051": "ARM", "031": "AZE",
};
const BOX = { west: 10, east: 48, south: 40, north: 60 }; // clamp box (view is smaller)
const STEP = 0.02;
const q = (v) => Math.round(v / STEP) * STEP;
const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

function ringOut(ring) {
  const out = [];
  let inside = false;
  for (const [lon, lat] of ring) {
    if (lon >= BOX.west && lon <= BOX.east && lat >= BOX.south && lat <= BOX.north) inside = true;
    const p = [+q(clamp(lon, BOX.west, BOX.east)).toFixed(2), +q(clamp(lat, BOX.south, BOX.north)).toFixed(2)];
    const last = out[out.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) out.push(p);
  }
  return inside && out.length >= 4 ? out : null;
}

// Crimea: Natural Earth's default (de facto) edition attributes the peninsula to Russia as a
// separate polygon. It is drawn here inside Ukraine's internationally recognised borders (UN
// General Assembly resolution 68/262); the contact line and the scenario's notes show control.
function isCrimea(ring) {
  const lons = ring.map((p) => p[0]), lats = ring.map((p) => p[1]);
  return Math.min(...lons) > 32.3 && Math.max(...lons) < 36.8 &&
         Math.min(...lats) > 44.2 && Math.max(...lats) < 46.4;
}

const byIso = {};
for (const geom of topo.objects.countries.geometries) {
  const iso3 = KEEP[geom.id];
  if (!iso3) continue;
  const f = topojson.feature(topo, geom);
  const polys = f.geometry.type === "Polygon" ? [f.geometry.coordinates] : f.geometry.coordinates;
  for (const poly of polys) for (const ring of poly) {
    const owner = iso3 === "RUS" && isCrimea(ring) ? "UKR" : iso3;
    const r = ringOut(ring);
    if (!r) continue;
    byIso[owner] = byIso[owner] || { iso3: owner, name: owner === iso3 ? geom.properties.name : "Ukraine", rings: [] };
    byIso[owner].rings.push(r);
  }
}
const features = Object.values(byIso);
features.sort((a, b) => a.iso3.localeCompare(b.iso3));
process.stdout.write(JSON.stringify({
  attribution: "Boundaries: Natural Earth 1:50m admin-0 countries v4.1.0 (public domain), via the npm package world-atlas 2.0.2; simplified by tools/derive_region_map.js",
  note: "Boundaries are for orientation only. Crimea is drawn within Ukraine's internationally recognised borders (UN GA resolution 68/262); Natural Earth's default edition attributes it to Russia.",
  box: BOX,
  countries: features,
}) + "\n");
