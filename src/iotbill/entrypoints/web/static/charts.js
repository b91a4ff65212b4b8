// Draws every element with a data-figure attribute as a Plotly chart.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".chart[data-figure]").forEach(function (element) {
    var figure = JSON.parse(element.dataset.figure);
    Plotly.newPlot(element, figure.data, figure.layout, {
      displaylogo: false,
      responsive: true,
    }).then(function () {
      element.dataset.drawn = "true";
    });
  });
});
