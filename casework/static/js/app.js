// Small progressive enhancements; every page works without them.
document.querySelectorAll(".js-language-form select").forEach((select) => {
  select.addEventListener("change", () => select.form.submit());
  const button = select.form.querySelector(".js-language-submit");
  if (button) button.classList.add("visually-hidden");
});

// A double tap must not send a form twice.
document.querySelectorAll("form").forEach((form) => {
  form.addEventListener("submit", () => {
    form.querySelectorAll("button[type=submit]").forEach((b) => {
      setTimeout(() => { b.disabled = true; }, 0);
    });
  });
});

// Confirmation for transitions marked as needing one.
document.querySelectorAll("[data-confirm]").forEach((el) => {
  el.addEventListener("click", (event) => {
    if (!window.confirm(el.dataset.confirm)) event.preventDefault();
  });
});
