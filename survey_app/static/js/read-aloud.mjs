// Read aloud: speaks the question on the page with the browser's own speech
// synthesis, for young people who find reading hard.
//
// Markup (rendered by the server, hidden so the page is complete without
// JavaScript or where the browser cannot speak):
//
// <div class="app-read-aloud" data-module="app-read-aloud" hidden>
//   <button type="button" class="govuk-button govuk-button--secondary"
//     data-label-start="Read aloud" data-label-stop="Stop reading"
//     aria-pressed="false">Read aloud</button>
// </div>

// Things a sighted user does not see as part of the question, or that are not
// worth hearing: form controls (their labels are read instead; hidden inputs
// such as the CSRF token have no visible text), buttons (actions, not the
// question), screen-reader-only text, and the read-aloud block itself.
const SKIP = [
  "script",
  "style",
  "template",
  "noscript",
  "input",
  "select",
  "textarea",
  "button",
  ".govuk-button",
  ".govuk-visually-hidden",
  ".govuk-visually-hidden-focusable",
  ".app-language-switcher",
  "[data-module='app-read-aloud']"
].join(",");

// The nearest thing an image is a choice in: its alt text is read only when
// that has no words of its own, so "Happy" is not read as "Smiling face Happy".
const CHOICE = "label, .govuk-radios__item, .govuk-checkboxes__item";

// Display: none, collapsed details and the like are not seen, so not read.
function isRendered(element) {
  if (typeof element.checkVisibility === "function") {
    return element.checkVisibility({ visibilityProperty: true });
  }
  return element.getClientRects().length > 0;
}

// Text inside inline elements (a link in a sentence) runs on; anything else
// (a paragraph, a label, a legend) is a separate phrase, read with a pause.
function isInline(element) {
  const display = window.getComputedStyle(element).display;
  return display === "inline" || display === "contents";
}

// Collects the visible text under root as a list of phrases.
function collectPhrases(root, { images = true } = {}) {
  const phrases = [];
  let current = "";

  const endPhrase = () => {
    const phrase = current.replace(/\s+/g, " ").trim();
    if (phrase) phrases.push(phrase);
    current = "";
  };

  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) {
      current += node.data;
      return;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    if (node.matches(SKIP) || !isRendered(node)) return;

    if (node.localName === "img") {
      const choice = node.closest(CHOICE);
      const alt = node.getAttribute("alt");
      if (images && alt && (!choice || !hasWords(choice))) current += ` ${alt} `;
      return;
    }

    const block = !isInline(node);
    if (block) endPhrase();
    node.childNodes.forEach(walk);
    if (block) endPhrase();
  };

  walk(root);
  endPhrase();
  return phrases;
}

function hasWords(element) {
  return collectPhrases(element, { images: false }).length > 0;
}

// What to read: the form that goes with this button (the one it is in, or the
// first one after it in <main>), or all of <main> if there is no form. The
// page heading is added first if it sits outside the form.
function phrasesToRead(module) {
  const main = module.closest("main") || document.querySelector("main");
  if (!main) return [];

  const form =
    module.closest("form") ||
    Array.from(main.querySelectorAll("form")).find(
      (candidate) =>
        (module.compareDocumentPosition(candidate) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0 &&
        !candidate.closest(".app-language-switcher")
    );
  const root = form || main;

  const heading = main.querySelector("h1");
  const phrases = heading && !root.contains(heading) ? collectPhrases(heading) : [];
  return phrases.concat(collectPhrases(root));
}

function initModule(module) {
  const button = module.querySelector("button");
  if (!button) return;

  const labelStart = button.dataset.labelStart || button.textContent.trim();
  const labelStop = button.dataset.labelStop || labelStart;
  const synth = window.speechSynthesis;

  // Counts each start and stop. Browsers fire "end" or "error" on utterances
  // we cancelled, sometimes after a new reading has begun: a stale event must
  // not reset the button.
  let reading = 0;
  let speaking = false;

  const setSpeaking = (on) => {
    speaking = on;
    button.textContent = on ? labelStop : labelStart;
    // Only if the template uses a toggle button.
    if (button.hasAttribute("aria-pressed")) {
      button.setAttribute("aria-pressed", String(on));
    }
  };

  // Ends the current reading, if any. The count goes up before cancel() in
  // case the browser fires the cancelled utterances' events straight away.
  const stop = () => {
    reading += 1;
    synth.cancel();
    setSpeaking(false);
  };

  button.addEventListener("click", () => {
    const wasSpeaking = speaking;
    // Clear anything queued, whether stopping or starting afresh.
    stop();
    if (wasSpeaking) return;

    const phrases = phrasesToRead(module);
    if (!phrases.length) return;

    // One utterance per phrase: natural pauses, and some browsers cut off a
    // single long utterance part way through.
    const thisReading = reading;
    const finish = () => {
      if (thisReading === reading) stop();
    };
    const utterances = phrases.map((phrase) => {
      const utterance = new window.SpeechSynthesisUtterance(phrase);
      // Picks a voice for the page's language, for example Welsh on "cy" pages.
      utterance.lang = document.documentElement.lang;
      utterance.addEventListener("error", finish);
      return utterance;
    });
    utterances[utterances.length - 1].addEventListener("end", finish);

    setSpeaking(true);
    utterances.forEach((utterance) => synth.speak(utterance));
  });

  // Some browsers keep talking after the page has gone, for example once the
  // answer has been submitted and the next question is loading. Resetting the
  // button too means it is right if the page comes back from the back/forward
  // cache.
  window.addEventListener("pagehide", () => {
    if (speaking) stop();
  });

  // The button is only useful now that it works.
  module.hidden = false;
}

export function initReadAloud(scope = document) {
  // Without speech synthesis the block stays hidden and nothing else happens.
  if (!("speechSynthesis" in window) || typeof window.SpeechSynthesisUtterance !== "function") {
    return;
  }
  scope.querySelectorAll('[data-module="app-read-aloud"]').forEach((module) => {
    // Guard against initialising twice, which would speak everything twice.
    if (module.hasAttribute("data-app-read-aloud-init")) return;
    module.setAttribute("data-app-read-aloud-init", "");
    initModule(module);
  });
}
