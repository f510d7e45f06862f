// The dashboard's charts, drawn by Apache ECharts (served by us, desk/vendor/) from the numbers the
// page carries as JSON (#chart-data): the script says nothing itself, every label comes from the
// server in the page's language, and every chart has a table with the same numbers beside it.
(function () {
  "use strict";
  var charts = [];

  function draw() {
    var source = document.getElementById("chart-data");
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    charts.forEach(function (chart) { chart.dispose(); });
    charts = [];
    var palette = ["#0b5394", "#a61b1b", "#1e6b32", "#7a4d00", "#5b2a86"];
    Object.keys(data).forEach(function (name) {
      var element = document.getElementById("chart-" + name);
      if (!element) { return; }
      var spec = data[name];
      var line = name === "on_time";
      var chart = window.echarts.init(element, null, { renderer: "canvas" });
      chart.setOption({
        color: palette,
        animation: false,
        tooltip: { trigger: "axis" },
        legend: { top: 0, type: "scroll" },
        xAxis: { type: "category", data: spec.x, axisLabel: { hideOverlap: true } },
        yAxis: line ? { type: "value", min: 0, max: 100 } : { type: "value", minInterval: 1 },
        // Room above the axis' top, so a rate of 100 shows its mark whole.
        grid: { left: 48, right: 16, top: 48, bottom: 56, containLabel: true },
        series: spec.series.map(function (s) {
          return line
            // Days without a completed stage have no rate: gaps, with every day that has one marked.
            ? { name: s.name, type: "line", data: s.data, connectNulls: false, symbol: "circle",
                symbolSize: 7, showAllSymbol: true }
            : { name: s.name, type: "bar", data: s.data, stack: name === "ageing" ? "all" : undefined };
        })
      });
      element.dataset.drawn = "true";
      charts.push(chart);
    });
  }

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  document.addEventListener("DOMContentLoaded", draw);
  // A new range swaps the figures in place (htmx): draw them again.
  document.addEventListener("htmx:afterSettle", draw);
})();
