// Progressive enhancement only: every page works without JavaScript.
// Adds the character count, exclusive checkboxes, double-click protection,
// read aloud, keyboard focus only on table regions that scroll, and charts.
import { initAll } from "../build/govuk-frontend.min.js";
// Shows the "Read aloud" button on easy-read questionnaires where the browser
// can speak.
import { initReadAloud } from "./read-aloud.mjs";
// Takes wide-table regions out of the tab order while their table fits.
import { initScrollRegions } from "./scroll-regions.mjs";
// Draws the measures' charts where a page has them.
import { initCharts } from "./charts.mjs";

initAll();
initReadAloud();
initScrollRegions();
initCharts();
