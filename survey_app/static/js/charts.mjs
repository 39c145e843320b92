// Draws the charts on a page (templates/macros/charts.html) with plotly.js.
//
// Each chart's figure is JSON in a <script type="application/json"> beside
// it, built on the server (analysis/charts.py); nothing here decides what a
// chart shows. plotly.js is loaded as a classic script before this module,
// only on pages with charts, and its stylesheet is linked with the id and
// class that stop it adding inline styles, so the Content-Security-Policy
// (style-src 'self') holds. Without JavaScript, or if plotly.js is missing,
// each chart's sentence and table are there and nothing here runs.

const CONFIG = {
  displayModeBar: false, // no toolbar: the figures download as CSV from the page
  responsive: true,
  scrollZoom: false,
  doubleClick: false,
};

export function initCharts(root = document) {
  const plots = root.querySelectorAll("[data-app-chart]");
  if (!plots.length || typeof window.Plotly === "undefined") {
    return;
  }
  plots.forEach((plot) => {
    const source = document.getElementById(plot.dataset.appChart);
    if (!source) {
      return;
    }
    const figure = JSON.parse(source.textContent);
    window.Plotly.newPlot(plot, figure.data, figure.layout, CONFIG).then(() => {
      plot.closest(".app-chart")?.classList.add("app-chart--drawn");
    });
  });
}
