// Progressive enhancement only: every page works without JavaScript.
// Adds the character count, exclusive checkboxes and double-click protection.
import { initAll } from "../build/govuk-frontend.min.js";
// Shows the "Read aloud" button on easy-read questionnaires where the browser
// can speak.
import { initReadAloud } from "./read-aloud.mjs";

initAll();
initReadAloud();
