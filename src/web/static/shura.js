// Shura's progressive enhancements; every page works without this file.
// A stakeholder suggestion (drawn by htmx under a search input) fills the hidden id field it
// names when chosen, and shows the chosen name.
document.addEventListener("click", function (event) {
  var pick = event.target.closest("[data-pick-id]");
  if (!pick) return;
  event.preventDefault();
  var target = document.getElementById(pick.getAttribute("data-pick-target"));
  if (!target) return;
  target.value = pick.getAttribute("data-pick-id");
  var label = document.getElementById(pick.getAttribute("data-pick-target") + "-chosen");
  if (label) label.textContent = pick.textContent;
  var list = pick.closest("[data-suggestions]");
  if (list) list.innerHTML = "";
});
