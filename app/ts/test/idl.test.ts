// The generated IDL module must match the committed JSON: regenerate in memory and compare.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";

import { IDL, IDL_JSON } from "../src/idl/margin_engine";
import { repoRoot } from "../harness/localnet";

const pkgRoot = path.join(repoRoot(), "app", "ts");

test("src/idl/margin_engine.ts is up to date with app/idl/margin_engine.json", async () => {
  const gen = await import(pathToFileURL(path.join(pkgRoot, "scripts", "gen-types.mjs")).href);
  const expected: string = gen.generate(readFileSync(gen.IDL_JSON_PATH, "utf8"));
  const committed = readFileSync(path.join(pkgRoot, "src", "idl", "margin_engine.ts"), "utf8");
  if (committed !== expected) {
    const a = committed.split("\n");
    const b = expected.split("\n");
    let line = 0;
    while (line < Math.min(a.length, b.length) && a[line] === b[line]) line++;
    assert.fail(
      "app/ts/src/idl/margin_engine.ts is stale against app/idl/margin_engine.json: " +
        "run `npm run gen-types` in app/ts and commit the result.\n" +
        `first difference at line ${line + 1}:\n  committed: ${a[line] ?? "<end>"}\n  expected:  ${b[line] ?? "<end>"}`,
    );
  }
});

test("IDL value is the committed JSON verbatim (snake_case, what new Program() takes)", () => {
  const json = JSON.parse(readFileSync(path.join(repoRoot(), "app", "idl", "margin_engine.json"), "utf8"));
  assert.deepEqual(IDL_JSON, json);
  assert.equal(IDL as unknown, IDL_JSON as unknown);
  assert.equal(IDL_JSON.metadata.spec, "0.1.0");
  assert.ok(IDL_JSON.instructions.some((ix) => ix.name === "initialize_exchange"));
});
