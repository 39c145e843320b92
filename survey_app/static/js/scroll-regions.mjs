// Scrolling table regions (templates/macros/tables.html): a table wider than
// its column scrolls inside a region that can take keyboard focus, so it can
// be scrolled without a mouse. The server renders every region focusable
// (tabindex="0"), which is right without JavaScript. Here, a region whose
// table fits (a desktop screen, most of the time) is taken out of the tab
// order, so keyboard users do not stop on something with nothing to scroll,
// and put back as soon as it no longer fits (a narrower window, or zoom).

function update(region) {
  if (region.scrollWidth > region.clientWidth) {
    region.setAttribute("tabindex", "0");
  } else if (region !== document.activeElement) {
    region.removeAttribute("tabindex");
  }
}

export function initScrollRegions(root = document) {
  const regions = root.querySelectorAll(".app-table-scroll");
  if (!regions.length) {
    return;
  }
  regions.forEach(update);
  if ("ResizeObserver" in window) {
    const observer = new ResizeObserver((entries) => {
      entries.forEach((entry) => update(entry.target));
    });
    regions.forEach((region) => observer.observe(region));
  }
}
