// Navigation Timing of one page load: when the DOM and the page were ready,
// and how many bytes came over the wire.

export async function loadTiming(page, url) {
  await page.goto(url, { waitUntil: "load" });
  return page.evaluate(() => {
    const [nav] = performance.getEntriesByType("navigation");
    const resources = performance.getEntriesByType("resource");
    const sum = (key) => resources.reduce((total, r) => total + (r[key] || 0), nav[key] || 0);
    return {
      domContentLoaded: nav.domContentLoadedEventEnd,
      load: nav.loadEventEnd,
      requests: resources.length + 1,
      transferred: sum("transferSize"),
      encoded: sum("encodedBodySize"),
      decoded: sum("decodedBodySize"),
    };
  });
}

export function printTiming(label, t) {
  console.log(
    `# page load (${label}): DOMContentLoaded ${t.domContentLoaded.toFixed(1)} ms, load ${t.load.toFixed(1)} ms, ` +
      `${t.requests} requests, ${t.transferred} B transferred (${t.encoded} B encoded, ${t.decoded} B decoded)`,
  );
}
