// Writes plotly.js's own stylesheet to a file, so that charts need no inline style.
//
// plotly.js adds its CSS rules at run time, into a <style> element that the
// Content-Security-Policy (style-src 'self') refuses; without them its SVG
// layers are not stacked and a chart falls apart. The rules are one object in
// the bundle, keyed by selectors written with X for ".js-plotly-plot .plotly"
// and Y for ".plotly-notifier". This reads that object out of the pinned
// bundle (at build time, never in a browser) and writes the rules as CSS. The
// page links the file with id "plotly.js-style-global" and the class
// "no-inline-styles", which tells plotly.js the rules are already there.
import { readFileSync, writeFileSync } from "node:fs";
import vm from "node:vm";

const [source, target] = process.argv.slice(2);
const bundle = readFileSync(source, "utf8");
const anchor = '{"X,X div":';
const start = bundle.indexOf(anchor);
if (start < 0) {
  throw new Error(`plotly.js's CSS rules were not found in ${source}: check scripts/plotly-css.mjs against this version`);
}
// Find the object's closing brace, skipping braces inside strings.
let depth = 0;
let quote = null;
let end = -1;
for (let i = start; i < bundle.length; i += 1) {
  const c = bundle[i];
  if (quote) {
    if (c === "\\") i += 1;
    else if (c === quote) quote = null;
  } else if (c === '"' || c === "'" || c === "`") quote = c;
  else if (c === "{") depth += 1;
  else if (c === "}") {
    depth -= 1;
    if (depth === 0) {
      end = i + 1;
      break;
    }
  }
}
const rules = vm.runInNewContext(`(${bundle.slice(start, end)})`);
const css = Object.entries(rules)
  .map(([selector, body]) => `${selector.replace(/X/g, ".js-plotly-plot .plotly").replace(/Y/g, ".plotly-notifier")}{${body}}`)
  .join("\n");
writeFileSync(target, `/* plotly.js's own rules, from ${source.split("/").slice(-2).join("/")} */\n${css}\n`);
