// Inspection pages: small enhancements; the forms work without them.

// Finding form: refuse before uploading when the chosen files exceed the request limit,
// so nothing typed is lost to a "too large" error page.
document.querySelectorAll(".js-finding-form").forEach((form) => {
  const limit = Number(form.dataset.maxBytes || 0);
  const message = form.querySelector(".js-size-error");
  const inputs = form.querySelectorAll("input[type=file]");
  const total = () => Array.from(inputs).reduce(
    (sum, input) => sum + Array.from(input.files || []).reduce((s, f) => s + f.size, 0), 0);
  const check = () => {
    const tooLarge = limit > 0 && total() > limit;
    if (message) {
      message.textContent = tooLarge ? form.dataset.tooLarge : "";
      message.hidden = !tooLarge;
    }
    return !tooLarge;
  };
  inputs.forEach((input) => input.addEventListener("change", check));
  form.addEventListener("submit", (event) => {
    if (!check()) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
});

// Amendment form: show only the input for the field being corrected, and start a text
// correction from the current text.
document.querySelectorAll(".js-amend-form").forEach((form) => {
  const groups = form.querySelectorAll("[data-amend-value]");
  const text = form.querySelector("textarea[name=value_text]");
  const kindOf = (field) => (field === "severity" || field === "rectification_required")
    ? field : "text";
  const show = (initial) => {
    const chosen = form.querySelector("input[name=field]:checked");
    groups.forEach((group) => {
      group.hidden = !chosen || group.dataset.amendValue !== kindOf(chosen.value);
    });
    if (!initial && chosen && kindOf(chosen.value) === "text" && text) {
      const current = document.querySelector(`[data-current="${chosen.value}"]`);
      if (current && (!text.value || text.dataset.prefilled === "1")) {
        text.value = current.dataset.value || "";
        text.dataset.prefilled = "1";
      }
    }
  };
  form.querySelectorAll("input[name=field]").forEach((radio) => {
    radio.addEventListener("change", () => show(false));
  });
  if (text) text.addEventListener("input", () => { text.dataset.prefilled = "0"; });
  show(true);
});
