// Prints the raw and gzip sizes of the built JS and CSS.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const dir = new URL("../dist/assets/", import.meta.url).pathname;
const totals = { js: [0, 0], css: [0, 0] };
for (const name of readdirSync(dir).sort()) {
  const kind = name.endsWith(".js") ? "js" : name.endsWith(".css") ? "css" : null;
  if (!kind) continue;
  const bytes = readFileSync(join(dir, name));
  const gz = gzipSync(bytes, { level: 9 }).length;
  totals[kind][0] += bytes.length;
  totals[kind][1] += gz;
  console.log(`${name.padEnd(32)} ${String(bytes.length).padStart(8)} B raw ${String(gz).padStart(8)} B gzip`);
}
for (const [kind, [raw, gz]] of Object.entries(totals)) {
  console.log(`total ${kind.padEnd(26)} ${String(raw).padStart(8)} B raw ${String(gz).padStart(8)} B gzip`);
}
