// e360 steward app: keyboard shortcuts. Plain forms and links do the work; this only
// presses them for you. No inline script anywhere (the content security policy forbids it).
(function () {
  "use strict";

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function follow(id) {
    var link = document.getElementById(id);
    if (link) { window.location.assign(link.getAttribute("href")); }
  }

  var submitted = false;
  function decide(key) {
    var button = document.querySelector('#decide-form button[data-key="' + key + '"]');
    if (button && !submitted) {
      submitted = true; // one decision per key press, even if the key repeats
      button.classList.add("pressed");
      button.click();
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) {
      // Ctrl+Enter in the comment box: nothing to guess, the steward picks the verdict.
      return;
    }
    if (typing(event.target)) {
      if (event.key === "Escape") { event.target.blur(); }
      return;
    }
    var review = document.body.classList.contains("review-page");
    switch (event.key) {
      case "m": case "n": case "u":
        if (review) { event.preventDefault(); decide(event.key); }
        break;
      case "c":
        var comment = document.getElementById("comment");
        if (review && comment) { event.preventDefault(); comment.focus(); }
        break;
      case "j": case "ArrowRight":
        if (review) { follow("next-pair"); }
        break;
      case "k": case "ArrowLeft":
        if (review) { follow("prev-pair"); }
        break;
      case "q":
        if (review) { follow("back-queue"); }
        break;
      case "Enter":
        if (!review) { follow("start-review"); }
        break;
    }
  });

  // Splitting and merging are not undone by the next key press: ask first.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id === "split-form") {
      var checked = form.querySelectorAll('input[name="records"]:checked').length;
      if (checked === 0) {
        event.preventDefault();
        window.alert("Check the records to split out first.");
      }
    }
  });
})();
