// The closing time the page proposed follows the year chosen, as long as nobody has changed it;
// a time someone typed stays as typed. Without script the server's warning does the same job.
(function () {
  var year = document.getElementById("year");
  var closes = document.getElementById("closes");
  if (!year || !closes || !closes.dataset.proposals) return;
  var proposals = JSON.parse(closes.dataset.proposals);
  var shown = year.value;
  year.addEventListener("change", function () {
    if (closes.value === proposals[shown] && proposals[year.value]) closes.value = proposals[year.value];
    shown = year.value;
  });
})();
