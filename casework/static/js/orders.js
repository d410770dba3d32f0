// Order pages: small enhancements only; every form works without them.

// The notice's "Print" button (no inline script under the CSP).
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});

// Deadline on the new-order form: typing a value picks its kind.
document.querySelectorAll(".deadline-value").forEach((input) => {
  const pick = () => {
    const radio = document.getElementById(`kind-${input.dataset.kind}`);
    if (radio) radio.checked = true;
  };
  input.addEventListener("focus", pick);
  input.addEventListener("input", pick);
});
