// Progressive enhancement only: every page works without JavaScript.
// Adds the character count, exclusive checkboxes, double-click protection,
// read aloud, and keyboard focus only on table regions that scroll.
import { initAll } from "../build/govuk-frontend.min.js";
// Shows the "Read aloud" button on easy-read questionnaires where the browser
// can speak.
import { initReadAloud } from "./read-aloud.mjs";
// Takes wide-table regions out of the tab order while their table fits.
import { initScrollRegions } from "./scroll-regions.mjs";

initAll();
initReadAloud();
initScrollRegions();
