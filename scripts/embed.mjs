#!/usr/bin/env node
// embed — turns the portal's assets into a C file linked into the kho binary.
//
//   node scripts/embed.mjs OUT.c web/ [NAME=PATH ...]
//
// Every file directly under web/ becomes an asset named by its file name; each
// NAME=PATH adds a file from elsewhere (the chart library from node_modules)
// under NAME. For each asset the C file holds its bytes, its MIME type, a
// content hash (the ETag, and the hashed name "app.<hash>.js") and, when it is
// smaller, a gzip copy made here (zlib level 9, no name or time in the header,
// so the output is reproducible).
//
// References between assets are rewritten to the hashed names, so a page
// names exactly the bytes it was built with and browsers may keep them for a
// year: "/static/NAME" (HTML, CSS) and "./NAME" (JavaScript imports and
// new URL("./NAME", import.meta.url)) where NAME is an asset. An asset's hash
// covers its rewritten text, so it changes whenever anything it references
// changes; references must therefore form no cycle (refused).
//
// Text assets must be valid UTF-8 in Unicode NFC (refused otherwise), so no
// page shows decomposed Vietnamese marks.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync, mkdirSync, renameSync } from "node:fs";
import { basename, dirname, extname, join } from "node:path";
import { gzipSync, constants } from "node:zlib";

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".txt": "text/plain; charset=utf-8",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
};
const TEXT = new Set([".html", ".css", ".js", ".mjs", ".json", ".svg", ".txt"]);
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,80}$/;

function fail(msg) {
  process.stderr.write(`embed: ${msg}\n`);
  process.exit(1);
}

function readAssets(webDir, extra) {
  const assets = new Map();
  const add = (name, path) => {
    if (!NAME_RE.test(name)) fail(`${path}: asset name '${name}' must be letters, digits, '.', '_' or '-'`);
    const ext = extname(name).toLowerCase();
    if (!MIME[ext]) fail(`${path}: no MIME type known for '${ext}' (add it to MIME in scripts/embed.mjs)`);
    if (assets.has(name)) fail(`${path}: a second asset named '${name}'`);
    let bytes;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      fail(`${path}: ${e.message}${path.includes("node_modules") ? " (run 'npm ci' first)" : ""}`);
    }
    const a = { name, path, ext, mime: MIME[ext], bytes, text: null };
    if (TEXT.has(ext)) {
      const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
      try {
        a.text = text.decode(bytes);
      } catch {
        fail(`${path}: not valid UTF-8`);
      }
      if (a.text.normalize("NFC") !== a.text) {
        const line = a.text.split("\n").findIndex((l) => l.normalize("NFC") !== l) + 1;
        fail(`${path}:${line}: text is not in Unicode NFC; normalise it`);
      }
    }
    assets.set(name, a);
  };
  for (const f of readdirSync(webDir).sort()) {
    const p = join(webDir, f);
    if (statSync(p).isFile() && !f.startsWith(".")) add(f, p);
  }
  for (const spec of extra) {
    const eq = spec.indexOf("=");
    if (eq <= 0) fail(`'${spec}': expected NAME=PATH`);
    add(spec.slice(0, eq), spec.slice(eq + 1));
  }
  return assets;
}

// The asset names referenced by a text, each with the span to rewrite.
const REF_RE = /(["'`(])(\/static\/|\.\/)([A-Za-z0-9][A-Za-z0-9_.-]*)(?=["'`)?#])/g;

function references(a, assets) {
  const refs = [];
  if (a.text === null) return refs;
  for (const m of a.text.matchAll(REF_RE))
    if (assets.has(m[3]) && m[3] !== a.name) refs.push(m[3]);
  return [...new Set(refs)];
}

function hashedName(name, hash) {
  const ext = extname(name);
  return `${name.slice(0, name.length - ext.length)}.${hash}${ext}`;
}

// Resolve every asset (its final bytes and hash) after the assets it references.
function resolve(assets) {
  const state = new Map(); // name -> "visiting" | "done"
  const visit = (name, chain) => {
    const a = assets.get(name);
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting") fail(`assets reference each other in a cycle: ${[...chain, name].join(" -> ")}`);
    state.set(name, "visiting");
    for (const r of references(a, assets)) visit(r, [...chain, name]);
    if (a.text !== null) {
      const text = a.text.replace(REF_RE, (all, open, prefix, ref) =>
        assets.has(ref) && ref !== a.name ? `${open}${prefix}${assets.get(ref).hashed}` : all);
      a.bytes = Buffer.from(text, "utf-8");
    }
    a.hash = createHash("sha256").update(a.bytes).digest("hex").slice(0, 16);
    a.hashed = hashedName(name, a.hash);
    const gz = gzipSync(a.bytes, { level: constants.Z_BEST_COMPRESSION });
    a.gz = gz.length < a.bytes.length * 0.9 ? gz : null;
    state.set(name, "done");
  };
  for (const name of assets.keys()) visit(name, []);
}

function cBytes(buf) {
  const lines = [];
  for (let i = 0; i < buf.length; i += 20) lines.push("    " + [...buf.subarray(i, i + 20)].join(",") + ",");
  return lines.join("\n");
}

function cString(s) {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function generate(assets) {
  const out = [
    "/* Generated by scripts/embed.mjs from web/ and the npm packages it was given: do not edit. */",
    '#include "api/h_static.h"',
    "",
  ];
  const list = [...assets.values()];
  list.forEach((a, i) => {
    out.push(`/* ${a.name} (${a.bytes.length} bytes${a.gz ? `, ${a.gz.length} gzipped` : ""}) */`);
    out.push(`static const unsigned char data${i}[] = {\n${cBytes(a.bytes)}\n};`);
    if (a.gz) out.push(`static const unsigned char gz${i}[] = {\n${cBytes(a.gz)}\n};`);
  });
  out.push("", "const kho_asset_t kho_web_assets[] = {");
  list.forEach((a, i) => {
    out.push(`    {${cString(a.name)}, ${cString(a.hashed)}, ${cString(a.mime)}, ${cString(`"${a.hash}"`)},`);
    out.push(`     data${i}, sizeof data${i}, ${a.gz ? `gz${i}, sizeof gz${i}` : "NULL, 0"}},`);
  });
  out.push("};", `const size_t kho_web_nassets = ${list.length};`, "");
  return out.join("\n");
}

const [outPath, webDir, ...extra] = process.argv.slice(2);
if (!outPath || !webDir) fail("usage: node scripts/embed.mjs OUT.c WEBDIR [NAME=PATH ...]");
const assets = readAssets(webDir, extra);
if (!assets.has("shell.html")) fail(`${webDir}/shell.html is missing: it is the page every portal URL serves`);
resolve(assets);
mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(`${outPath}.tmp`, generate(assets));
renameSync(`${outPath}.tmp`, outPath);
let total = 0, gz = 0;
for (const a of assets.values()) (total += a.bytes.length), (gz += a.gz ? a.gz.length : a.bytes.length);
process.stdout.write(`  EMBED ${basename(outPath)}: ${assets.size} assets, ${total} bytes (${gz} as sent gzipped)\n`);
