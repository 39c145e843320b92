// Progressive enhancement only: every page works without JavaScript.
// Adds the character count, exclusive checkboxes and double-click protection.
import { initAll } from "../build/govuk-frontend.min.js";

initAll();
