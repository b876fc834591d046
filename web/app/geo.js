// Coordinates for the phone's map apps. GPS and our data are WGS-84; AMap (高德) and most maps
// in mainland China take GCJ-02, Baidu takes BD-09. Outside China GCJ-02 equals WGS-84.

const A = 6378245.0; // Krasovsky 1940 semi-major axis, as GCJ-02 uses
const EE = 0.00669342162296594323;
const X_PI = (Math.PI * 3000.0) / 180.0;

export function outOfChina(lon, lat) {
  return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

function shiftLat(x, y) {
  let r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  r += ((20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin((y / 3.0) * Math.PI)) * 2.0) / 3.0;
  r += ((160.0 * Math.sin((y / 12.0) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30.0)) * 2.0) / 3.0;
  return r;
}

function shiftLon(x, y) {
  let r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  r += ((20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin((x / 3.0) * Math.PI)) * 2.0) / 3.0;
  r += ((150.0 * Math.sin((x / 12.0) * Math.PI) + 300.0 * Math.sin((x / 30.0) * Math.PI)) * 2.0) / 3.0;
  return r;
}

/** WGS-84 → GCJ-02, [lon, lat] in and out. */
export function wgs84ToGcj02(lon, lat) {
  if (outOfChina(lon, lat)) return [lon, lat];
  let dLat = shiftLat(lon - 105.0, lat - 35.0);
  let dLon = shiftLon(lon - 105.0, lat - 35.0);
  const radLat = (lat / 180.0) * Math.PI;
  let magic = Math.sin(radLat);
  magic = 1 - EE * magic * magic;
  const sqrtMagic = Math.sqrt(magic);
  dLat = (dLat * 180.0) / (((A * (1 - EE)) / (magic * sqrtMagic)) * Math.PI);
  dLon = (dLon * 180.0) / ((A / sqrtMagic) * Math.cos(radLat) * Math.PI);
  return [lon + dLon, lat + dLat];
}

/** GCJ-02 → BD-09, [lon, lat] in and out. */
export function gcj02ToBd09(lon, lat) {
  const z = Math.sqrt(lon * lon + lat * lat) + 0.00002 * Math.sin(lat * X_PI);
  const theta = Math.atan2(lat, lon) + 0.000003 * Math.cos(lon * X_PI);
  return [z * Math.cos(theta) + 0.0065, z * Math.sin(theta) + 0.006];
}

export function wgs84ToBd09(lon, lat) {
  return gcj02ToBd09(...wgs84ToGcj02(lon, lat));
}

const fixed = (n) => n.toFixed(6);

/** Hand-off links to the phone's map apps for a site at WGS-84 [lon, lat]. */
export function navigationLinks(lon, lat, name) {
  const [gLon, gLat] = wgs84ToGcj02(lon, lat);
  const [bLon, bLat] = gcj02ToBd09(gLon, gLat);
  const label = encodeURIComponent(name || "");
  return {
    geo: `geo:${fixed(lat)},${fixed(lon)}?q=${fixed(lat)},${fixed(lon)}(${label})`,
    // Apple Maps uses GCJ-02 inside China as well.
    apple: `https://maps.apple.com/?ll=${fixed(gLat)},${fixed(gLon)}&q=${label}`,
    amap: `https://uri.amap.com/marker?position=${fixed(gLon)},${fixed(gLat)}&name=${label}&coordinate=gaode&callnative=1`,
    baidu: `https://api.map.baidu.com/marker?location=${fixed(bLat)},${fixed(bLon)}&title=${label}&content=${label}&output=html&coord_type=bd09ll`,
  };
}
