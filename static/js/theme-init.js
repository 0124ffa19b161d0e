// Runs in <head> before the first paint: apply the saved theme, else the system one.
(function () {
  var theme = null;
  try {
    theme = localStorage.getItem("pc_theme");
  } catch (e) {
    // Storage can be blocked; fall back to the system preference.
  }
  if (theme !== "light" && theme !== "dark") {
    var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
    theme = dark ? "dark" : "light";
  }
  document.documentElement.setAttribute("data-theme", theme);
})();
