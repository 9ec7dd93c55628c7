// Draws every chart on the page from its JSON data block (Features/WebConsole/Plots.cs) with the vendored uPlot.
// No inline script and no eval: the Content Security Policy allows script from the console's own origin only. The
// numbers are also in a table beside each chart, which is what a page without script shows.
(function () {
    "use strict";
    // Colour-blind-safe (Okabe–Ito), in the order series are listed.
    var colours = ["#0072B2", "#D55E00", "#000000", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#999999"];
    var utc = function (seconds) { return uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC"); };

    function options(plot, width) {
        var bars = plot.kind === "bars";
        var scales = Object.keys(plot.units);
        var series = [{}].concat(plot.series.map(function (s, i) {
            var drawn = { label: s.label, scale: s.scale, stroke: colours[i % colours.length], width: 2, spanGaps: false };
            if (s.scale === "ms") {
                drawn.dash = [6, 4];
            }
            if (bars) {
                var n = plot.series.length;
                drawn.fill = colours[i % colours.length];
                // Grouped bars: each agency's slot (0.8 of a unit wide) is shared by the series, side by side.
                var wide = 0.8 / n;
                drawn.paths = uPlot.paths.bars({
                    disp: {
                        x0: { unit: 1, values: function () { return plot.x.map(function (x) { return x - 0.4 + i * wide; }); } },
                        size: { unit: 1, values: function () { return plot.x.map(function () { return wide; }); } },
                    },
                });
                drawn.points = { show: false };
            }
            return drawn;
        }));
        var axes = [bars
            ? { values: function (u, splits) { return splits.map(function (x) { return plot.names[x] || ""; }); } }
            : {}];
        scales.forEach(function (scale, i) {
            axes.push({ scale: scale, label: plot.units[scale], side: i === 0 ? 3 : 1, grid: { show: i === 0 } });
        });
        var scaleOptions = { x: bars ? { time: false, range: function () { return [-0.5, plot.x.length - 0.5]; } } : { time: true } };
        scales.forEach(function (scale) { scaleOptions[scale] = { range: function (u, min, max) { return [0, Math.max(1, max) * 1.1]; } }; });
        return {
            width: width,
            height: 240,
            tzDate: utc,
            scales: scaleOptions,
            series: series,
            axes: axes,
            cursor: { drag: { x: false, y: false } },
        };
    }

    function draw(container) {
        var block = container.querySelector("script[type='application/json']");
        if (!block || typeof uPlot === "undefined") {
            return;
        }
        var plot = JSON.parse(block.textContent);
        var width = function () { return Math.max(280, container.clientWidth); };
        var chart = new uPlot(options(plot, width()), [plot.x].concat(plot.series.map(function (s) { return s.values; })), container);
        // The chart is drawn: its table (open for a page without script) folds away behind its summary.
        var table = container.nextElementSibling;
        if (table && table.tagName === "DETAILS") {
            table.open = false;
        }
        window.addEventListener("resize", function () { chart.setSize({ width: width(), height: 240 }); });
    }

    document.querySelectorAll("[data-plot]").forEach(draw);
}());
