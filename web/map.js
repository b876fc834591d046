// The map: Leaflet (vendored, loaded as a classic script) over a plain background.
// Without a tile URL nothing is fetched: a graticule, a scale and the demo city's district
// outlines (a GeoJSON file of this server, data/districts.geojson) stand in for tiles.

import { h } from "./dom.js";
import { worstState } from "./format.js";
import { language, onLanguageChange, t } from "./i18n.js";

const L = window.L;
const ZHENGZHOU = [34.75, 113.65];
const STEPS = [5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001];
export const ROUTE_COLOURS = [
  "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
  "#8c564b", "#e377c2", "#bcbd22", "#393b79", "#637939", "#843c39",
];
const STATE_COLOURS = {
  ok: "#2e9d4f",
  at_risk: "#e0a100",
  breached: "#d7263d",
  met: "#5b7fa6",
  paused: "#8a6bbf",
  scheduled: "#6b7785",
};

// The districts' outlines with their names, in the page's language; drawn under everything else
// and never in the way of a click.
async function loadDistricts(layer) {
  let data;
  try {
    const response = await fetch("data/districts.geojson");
    if (!response.ok) return;
    data = await response.json();
  } catch {
    return;
  }
  const draw = () => {
    layer.clearLayers();
    const style = { color: "#6f7f91", weight: 1.5, opacity: 0.8, dashArray: "5 4", fillColor: "#c9d3de", fillOpacity: 0.06, interactive: false, className: "district-outline" };
    layer.addLayer(L.geoJSON(data, { style, pane: "districts" }));
    for (const feature of data.features) {
      const { name, name_en: english, label_at: at } = feature.properties;
      const label = h("span", { class: "district-name", dataset: { district: name } }, language() === "en" && english ? english : name);
      const icon = L.divIcon({ className: "district-label", html: label, iconSize: null });
      layer.addLayer(L.marker([at[1], at[0]], { icon, interactive: false, keyboard: false, pane: "districts" }));
    }
  };
  draw();
  onLanguageChange(draw);
}

function tip(...lines) {
  return h("div", { class: "map-tip" }, lines.filter(Boolean).map((line, i) => h(i ? "div" : "strong", {}, line)));
}

export function createMap(container, { tileUrl, onSelectOrder, onViewport }) {
  // A maximum zoom even without tiles: clustering needs one to know where it ends.
  const map = L.map(container, { zoomControl: true, preferCanvas: false, attributionControl: !!tileUrl, maxZoom: 19 });
  map.setView(ZHENGZHOU, 11);
  L.control.scale({ imperial: false }).addTo(map);

  const graticule = L.layerGroup();
  const districts = L.layerGroup();
  if (tileUrl) {
    L.tileLayer(tileUrl, { maxZoom: 19 }).addTo(map);
  } else {
    container.classList.add("no-tiles");
    graticule.addTo(map);
    districts.addTo(map);
  }
  // Their own pane under the overlays: sites, routes and their clicks stay on top.
  map.createPane("districts").style.zIndex = 350;
  loadDistricts(districts);
  // Thousands of sites stay readable and fast as clusters until the map is close in.
  const allSites = L.markerClusterGroup({ disableClusteringAtZoom: 15, maxClusterRadius: 45, showCoverageOnHover: false, chunkedLoading: true }).addTo(map);
  const warehouses = L.layerGroup().addTo(map);
  const engineers = L.layerGroup().addTo(map);
  const live = L.layerGroup().addTo(map);
  const routes = L.layerGroup().addTo(map);
  const orders = L.layerGroup().addTo(map);
  const orderMarkers = new Map();
  L.control
    .layers(
      null,
      { [t("map.districts")]: districts, [t("map.all_sites")]: allSites, [t("map.warehouses")]: warehouses, [t("map.engineers")]: engineers, [t("map.live")]: live, [t("map.routes")]: routes, [t("map.orders")]: orders },
      { collapsed: true },
    )
    .addTo(map);

  function drawGraticule() {
    if (tileUrl) return;
    graticule.clearLayers();
    const b = map.getBounds();
    const span = Math.max(b.getEast() - b.getWest(), b.getNorth() - b.getSouth());
    const step = STEPS.find((s) => span / s >= 4) ?? STEPS[STEPS.length - 1];
    const style = { color: "#9fb0c3", weight: 1, opacity: 0.6, interactive: false, className: "graticule" };
    for (let lon = Math.floor(b.getWest() / step) * step; lon <= b.getEast(); lon += step) {
      graticule.addLayer(L.polyline([[b.getSouth() - span, lon], [b.getNorth() + span, lon]], style));
    }
    for (let lat = Math.floor(b.getSouth() / step) * step; lat <= b.getNorth(); lat += step) {
      graticule.addLayer(L.polyline([[lat, b.getWest() - span], [lat, b.getEast() + span]], style));
    }
  }

  let viewportTimer = null;
  map.on("moveend", () => {
    drawGraticule();
    clearTimeout(viewportTimer);
    viewportTimer = setTimeout(() => onViewport?.(bbox()), 250);
  });
  drawGraticule();

  function bbox() {
    const b = map.getBounds();
    const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v)).toFixed(5);
    return [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90), clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)].join(",");
  }

  function latLng(point) {
    return [point.coordinates[1], point.coordinates[0]];
  }

  return {
    bbox,

    showOrders(list) {
      orders.clearLayers();
      orderMarkers.clear();
      const bySite = new Map();
      for (const order of list) {
        const entry = bySite.get(order.site.id) || { site: order.site, orders: [] };
        entry.orders.push(order);
        bySite.set(order.site.id, entry);
      }
      for (const { site, orders: here } of bySite.values()) {
        const state = worstState(here.flatMap((o) => o.clocks));
        const marker = L.circleMarker(latLng(site.point), {
          radius: 9,
          color: "#ffffff",
          weight: 2,
          fillColor: STATE_COLOURS[state] || STATE_COLOURS.ok,
          fillOpacity: 0.95,
          className: `site-marker state-${state}`,
        });
        marker.bindTooltip(tip(site.name, site.address, here.map((o) => o.problem_number).join(" · ")), { direction: "top" });
        marker.on("click", () => onSelectOrder?.(here[0].id));
        marker.addTo(orders);
        for (const o of here) orderMarkers.set(o.id, marker);
      }
    },

    showAllSites(collection) {
      allSites.clearLayers();
      const markers = [];
      for (const feature of collection.features || []) {
        const marker = L.circleMarker(latLng(feature.geometry), {
          radius: 3,
          color: "#7d8da1",
          weight: 1,
          fillColor: "#c3ccd6",
          fillOpacity: 0.9,
          className: "any-site-marker",
        });
        marker.bindTooltip(tip(feature.properties.name, feature.properties.address), { direction: "top" });
        markers.push(marker);
      }
      allSites.addLayers(markers);
    },

    showEngineers(list) {
      engineers.clearLayers();
      for (const engineer of list) {
        if (!engineer.home_base) continue;
        const icon = L.divIcon({ className: "engineer-marker", iconSize: [12, 12], html: h("span") });
        L.marker(latLng(engineer.home_base), { icon, keyboard: false })
          .bindTooltip(tip(engineer.display_name, engineer.username, engineer.home_address), { direction: "top" })
          .addTo(engineers);
      }
    },

    /** Where consenting engineers on shift are now, each with the age of the fix. */
    showPositions(list) {
      live.clearLayers();
      for (const p of list) {
        const icon = L.divIcon({ className: "live-engineer-marker", iconSize: [16, 16], html: h("span") });
        const age = t("map.age", { n: Math.round(p.age_seconds / 60) });
        L.marker(L.latLng(p.point[1], p.point[0]), { icon, keyboard: false, title: `${p.name} · ${age}` })
          .bindTooltip(tip(p.name, p.username, age), { direction: "top" })
          .addTo(live);
      }
    },

    /** `stockOf(id)`: lines describing what the warehouse holds, fetched when first hovered. */
    showWarehouses(list, stockOf = null) {
      warehouses.clearLayers();
      for (const place of list) {
        if (!place.point) continue;
        const marker = L.marker(latLng(place.point), { title: place.name, alt: place.name })
          .bindTooltip(tip(place.name, place.address), { direction: "top" })
          .addTo(warehouses);
        if (!stockOf) continue;
        let loaded = false;
        marker.on("tooltipopen", async () => {
          if (loaded) return;
          loaded = true;
          const lines = await stockOf(place.id).catch(() => []);
          marker.setTooltipContent(tip(place.name, place.address, ...lines));
        });
      }
    },

    showRoutes(geometry) {
      routes.clearLayers();
      const points = [];
      (geometry?.features || []).forEach((feature, i) => {
        const colour = ROUTE_COLOURS[i % ROUTE_COLOURS.length];
        const line = L.geoJSON(feature, {
          style: { color: colour, weight: 4, opacity: 0.85, className: "route-line" },
        });
        line.bindTooltip(tip(feature.properties.engineer_name || feature.properties.username || t("engineer"), t("map.stops", { n: feature.properties.stops })), { sticky: true });
        line.addTo(routes);
        const coords = feature.geometry.coordinates;
        points.push(...coords.map((c) => [c[1], c[0]]));
        coords.slice(1, -1).forEach((c, n) => {
          const icon = L.divIcon({ className: "stop-marker", iconSize: [18, 18], html: h("span", {}, String(n + 1)) });
          const marker = L.marker([c[1], c[0]], { icon, keyboard: false, interactive: false });
          marker.addTo(routes);
          marker.getElement().style.background = colour;
        });
      });
      if (points.length) map.fitBounds(L.latLngBounds(points).pad(0.08), { maxZoom: 14 });
    },

    clearRoutes() {
      routes.clearLayers();
    },

    fitTo(points) {
      const latLngs = points.filter(Boolean).map(latLng);
      if (latLngs.length) map.fitBounds(L.latLngBounds(latLngs).pad(0.15), { maxZoom: 13 });
    },

    focusOrder(order) {
      const at = latLng(order.site.point);
      if (!map.getBounds().pad(-0.1).contains(at)) map.panTo(at);
      orderMarkers.get(order.id)?.openTooltip();
    },

    invalidate() {
      map.invalidateSize();
    },
  };
}
