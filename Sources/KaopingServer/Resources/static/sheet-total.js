// The score sheet's running total, recomputed as the evaluator types, the way the scoring
// method computes it (docs/scoring.md §3): each deduction item keeps max − lost (never below
// 0), scaled to 100; bonus items count up to their own cap, and all of them up to the round's.
(function () {
  var total = document.getElementById("sheet-total");
  if (!total) return;
  var inputs = Array.prototype.slice.call(document.querySelectorAll("input[data-points]"));
  var bonusCap = parseFloat(total.dataset.bonusCap);
  var maxima = parseFloat(total.dataset.deductionMaxima);

  function number(text) {
    // Full-width digits and points from a Chinese input method, as the server reads them.
    var half = text.trim().replace(/[\uFF10-\uFF19]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xFF10 + 48);
    }).replace(/[\uFF0E\u3002]/g, ".").replace(/\uFF0D/g, "-");
    var value = half === "" ? 0 : Number(half);
    return isFinite(value) ? value : NaN;
  }
  function shown(value) {
    return value === Math.round(value) ? String(value) : value.toFixed(2);
  }
  function update() {
    var lost = 0, kept = 0, bonus = 0;
    inputs.forEach(function (input) {
      var max = parseFloat(input.dataset.max);
      var value = number(input.value);
      if (isNaN(value) || value < 0 || value > max) value = 0;
      if (input.dataset.points === "deduction") {
        lost += value;
        kept += Math.max(0, max - value);
      } else {
        bonus += Math.min(value, max);
      }
    });
    var base = maxima > 0 ? (maxima === 100 ? kept : kept * 100 / maxima) : 0;
    total.textContent = total.dataset.template
      .replace("{lost}", shown(lost)).replace("{base}", shown(base))
      .replace("{bonus}", shown(Math.min(bonus, bonusCap))).replace("{cap}", shown(bonusCap));
  }
  inputs.forEach(function (input) { input.addEventListener("input", update); });
})();
