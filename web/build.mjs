// Builds the browser bundles into dist/ (committed; the server embeds it).
//
//   node build.mjs           widget.js, console/app.js, static files
//   node build.mjs --tests   also compile test/*.test.ts into test-build/ for `node --test`
//
// The output is deterministic: the same sources give byte-identical files (no
// timestamps, no absolute paths, no source maps, files visited in sorted order).

import * as esbuild from "esbuild";
import { promises as fs } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(root, "dist");
const WIDGET_BUDGET = 40 * 1024;

/** Lets `import css from "./x.css"` yield the minified stylesheet as a string. */
const inlineCss = {
  name: "inline-css",
  setup(build) {
    build.onLoad({ filter: /\.css$/ }, async (args) => {
      const source = await fs.readFile(args.path, "utf8");
      const { code } = await esbuild.transform(source, { loader: "css", minify: true, target: ["chrome90", "firefox90", "safari15"] });
      return { contents: code.trim(), loader: "text" };
    });
  },
};

const common = {
  bundle: true,
  minify: true,
  write: false,
  charset: "utf8",
  legalComments: "none",
  target: ["es2020"],
  sourcemap: false,
  logLevel: "warning",
  absWorkingDir: root,
  plugins: [inlineCss],
};

/**
 * JSX (.tsx) compiles to Preact's automatic runtime. Only the console's bundle is
 * given it: the widget and its lazy parts stay framework-free.
 */
const preactJsx = { jsx: "automatic", jsxImportSource: "preact" };

/** Fails a framework-free bundle that reaches Preact or a .tsx view. */
const frameworkFree = {
  name: "framework-free",
  setup(build) {
    build.onResolve({ filter: /^(preact|@preact\/)|\.tsx$/ }, (args) => ({ errors: [{ text: `${args.path} (from ${path.relative(root, args.importer)}) is not allowed in a framework-free bundle` }] }));
    build.onLoad({ filter: /\.tsx$/ }, (args) => ({ errors: [{ text: `${path.relative(root, args.path)} is not allowed in a framework-free bundle` }] }));
  },
};

async function bundle(entry, format, globalName, extra = {}) {
  const result = await esbuild.build({
    ...common,
    plugins: extra.jsx ? common.plugins : [...common.plugins, frameworkFree],
    ...extra,
    entryPoints: [path.join(root, entry)],
    format,
    ...(globalName ? { globalName } : {}),
    outfile: "out.js",
  });
  const [file] = result.outputFiles;
  return file.contents;
}

/** A bundle of TypeScript source given as text (resolved from web/). */
async function bundleSource(contents) {
  const result = await esbuild.build({
    ...common,
    // The language packs are the widget's too: framework-free.
    plugins: [...common.plugins, frameworkFree],
    stdin: { contents, resolveDir: root, loader: "ts", sourcefile: "entry.ts" },
    format: "iife",
    outfile: "out.js",
  });
  const [file] = result.outputFiles;
  return file.contents;
}

/** The widget's language packs besides the built-in English: widget-LANG.js. */
const WIDGET_LANGS = ["de", "fr"];

async function listFiles(dir) {
  const out = [];
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

async function writeOut(rel, contents) {
  const p = path.join(dist, rel);
  await fs.mkdir(path.dirname(p), { recursive: true });
  await fs.writeFile(p, contents);
  return contents.length;
}

function kb(n) {
  return (n / 1024).toFixed(1).padStart(6) + " KB";
}

async function buildDist() {
  await fs.rm(dist, { recursive: true, force: true });
  const sizes = [];
  const widget = await bundle("src/widget/main.ts", "iife");
  sizes.push(["widget.js", await writeOut("widget.js", widget)]);
  const app = await bundle("src/console/main.tsx", "iife", undefined, preactJsx);
  sizes.push(["console/app.js", await writeOut("console/app.js", app)]);
  // The co-browse mirror (rrweb's replayer): loaded by the console for the first co-browsed page.
  const mirror = await bundle("src/console/mirror-main.ts", "iife");
  sizes.push(["console/mirror.js", await writeOut("console/mirror.js", mirror)]);
  // Screen sharing for visitors: loaded by widget.js on the first invitation.
  const share = await bundle("src/widget/share-main.ts", "iife");
  sizes.push(["widget-share.js", await writeOut("widget-share.js", share)]);
  // Co-browsing for visitors (rrweb's recorder): loaded by widget.js when an agent asks.
  const cobrowse = await bundle("src/widget/cobrowse-main.ts", "iife");
  sizes.push(["widget-cobrowse.js", await writeOut("widget-cobrowse.js", cobrowse)]);
  // Pictures for visitors: loaded by widget.js for the first picture shown or sent.
  const images = await bundle("src/widget/images-main.ts", "iife");
  sizes.push(["widget-images.js", await writeOut("widget-images.js", images)]);
  // Link cards: loaded by widget.js for the first link an agent sends.
  const links = await bundle("src/widget/links-main.ts", "iife");
  sizes.push(["widget-links.js", await writeOut("widget-links.js", links)]);
  // The away form (leave an e-mail address): loaded by widget.js when nobody is available.
  const away = await bundle("src/widget/away-main.ts", "iife");
  sizes.push(["widget-away.js", await writeOut("widget-away.js", away)]);
  // The end card (a rating, the transcript as a download): loaded by widget.js when a conversation has closed.
  const end = await bundle("src/widget/end-main.ts", "iife");
  sizes.push(["widget-end.js", await writeOut("widget-end.js", end)]);
  // The widget's words in another language: loaded by widget.js before it mounts.
  for (const lang of WIDGET_LANGS) {
    const global = `__sightline${lang[0].toUpperCase() + lang.slice(1)}Module`;
    const pack = await bundleSource(`import strings from "./src/widget/i18n-${lang}";\n(window as unknown as Record<string, unknown>).${global} = strings;\n`);
    sizes.push([`widget-${lang}.js`, await writeOut(`widget-${lang}.js`, pack)]);
  }
  // The /join page (session keys, and the pop-up that shares from a framed widget).
  const join = await bundle("src/join/main.ts", "iife");
  sizes.push(["join/app.js", await writeOut("join/app.js", join)]);
  const staticDir = path.join(root, "static");
  for (const file of await listFiles(staticDir)) {
    const rel = path.relative(staticDir, file).split(path.sep).join("/");
    if (["widget.js", "console/app.js", "console/mirror.js", "widget-share.js", "widget-cobrowse.js", "widget-images.js", "widget-links.js", "widget-away.js", "widget-end.js", "join/app.js", ...WIDGET_LANGS.map((l) => `widget-${l}.js`)].includes(rel)) throw new Error(`static/${rel} would overwrite a bundle`);
    sizes.push([rel, await writeOut(rel, await fs.readFile(file))]);
  }
  for (const [name, size] of sizes) console.log(`  dist/${name.padEnd(28)} ${kb(size)}`);
  const widgetSize = sizes[0][1];
  if (widgetSize > WIDGET_BUDGET) {
    console.error(`widget.js is ${widgetSize} bytes, over the ${WIDGET_BUDGET}-byte budget`);
    process.exit(1);
  }
  console.log(`widget.js: ${widgetSize} bytes of ${WIDGET_BUDGET} budget`);
}

async function buildTests() {
  const out = path.join(root, "test-build");
  await fs.rm(out, { recursive: true, force: true });
  const entries = (await listFiles(path.join(root, "test"))).filter((f) => f.endsWith(".test.ts"));
  await esbuild.build({
    ...common,
    ...preactJsx,
    minify: false,
    write: true,
    entryPoints: entries,
    outdir: out,
    outExtension: { ".js": ".mjs" },
    entryNames: "[name]",
    platform: "node",
    format: "esm",
    target: "node20",
  });
}

if (process.argv.includes("--tests")) {
  await buildTests();
} else {
  await buildDist();
}
