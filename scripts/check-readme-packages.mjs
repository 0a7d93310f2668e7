// The root README must say what exists and what is coming, and nothing more. Every package under
// packages/ has a row in its packages table (linked, under its real name); every linked row is a
// package that exists; a package in the "Coming" list does not exist yet (once it does, move it
// into the table).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const readme = readFileSync(join(root, "README.md"), "utf8");
const packages = new Map();
for (const dir of readdirSync(join(root, "packages"))) {
  const file = join(root, "packages", dir, "package.json");
  if (existsSync(file)) packages.set(JSON.parse(readFileSync(file, "utf8")).name, dir);
}

const problems = [];
const rows = [...readme.matchAll(/^\| (?:\[`(@ws\/[\w-]+)`\]\(packages\/([\w-]+)\)|`(@ws\/[\w-]+)`)/gm)];
const inTable = new Set(rows.map((m) => m[1] ?? m[3]));
for (const m of rows) {
  if (m[1] && packages.get(m[1]) !== m[2])
    problems.push(`the table links ${m[1]} to packages/${m[2]}, which is not that package`);
}
for (const name of packages.keys())
  if (!inTable.has(name)) problems.push(`${name} exists but has no row in the packages table`);
for (const name of inTable)
  if (!packages.has(name)) problems.push(`the table lists ${name}, which does not exist`);
const coming = readme.slice(readme.indexOf("Coming ("), readme.indexOf("Dependency direction:"));
for (const m of coming.matchAll(/^- `(@ws\/[\w-]+)`/gm)) {
  if (packages.has(m[1])) problems.push(`${m[1]} exists now: move it from "Coming" into the packages table`);
}
if (problems.length > 0) {
  console.error(
    `check-readme-packages: the root README's packages section is out of date:\n  ${problems.join("\n  ")}`,
  );
  process.exit(1);
}
console.log(
  `check-readme-packages: ${packages.size} packages in the table, none promised that does not exist`,
);
