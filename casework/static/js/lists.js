// List filters: the institution field suggests institutions as one types
// (GET data-search-url?q=…, at most 20 the user may see). Choosing one fills the hidden
// institution_id; without this script the typed text filters by part of the name.
document.querySelectorAll("input[data-institution-search]").forEach((input) => {
  const hidden = document.getElementById(input.dataset.target);
  const list = document.getElementById(input.getAttribute("aria-controls"));
  if (!hidden || !list) return;
  let timer = null;
  let request = null;
  let active = -1;

  const options = () => Array.from(list.querySelectorAll("[role=option]"));

  const close = () => {
    list.replaceChildren();
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };

  const highlight = (index) => {
    const all = options();
    if (!all.length) return;
    active = (index + all.length) % all.length;
    all.forEach((el, i) => {
      el.classList.toggle("active", i === active);
      el.setAttribute("aria-selected", i === active ? "true" : "false");
    });
    input.setAttribute("aria-activedescendant", all[active].id);
  };

  const choose = (el) => {
    input.value = el.dataset.name;
    hidden.value = el.dataset.id;
    close();
  };

  const show = (institutions) => {
    list.replaceChildren();
    institutions.forEach((institution, i) => {
      const el = document.createElement("li");
      el.id = `${list.id}-${i}`;
      el.className = "list-group-item list-group-item-action";
      el.setAttribute("role", "option");
      el.dataset.id = institution.id;
      el.dataset.name = institution.name;
      el.textContent = institution.name; // text, never HTML
      // Keep the focus in the field (no blur closing the list), choose on the click.
      el.addEventListener("mousedown", (event) => event.preventDefault());
      el.addEventListener("click", () => choose(el));
      list.appendChild(el);
    });
    list.hidden = institutions.length === 0;
    input.setAttribute("aria-expanded", institutions.length ? "true" : "false");
    active = -1;
  };

  const search = () => {
    const text = input.value.trim();
    if (request) request.abort();
    if (!text) {
      close();
      return;
    }
    request = new AbortController();
    const url = `${input.dataset.searchUrl}?q=${encodeURIComponent(text)}`;
    fetch(url, { headers: { Accept: "application/json" }, signal: request.signal,
                 credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : { institutions: [] }))
      .then((data) => show(data.institutions || []))
      .catch(() => {}); // aborted or offline: the plain text filter still works
  };

  input.addEventListener("input", () => {
    hidden.value = ""; // the text changed: no longer the chosen institution
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  input.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      highlight(active + 1);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      highlight(active - 1);
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      choose(options()[active]);
    } else if (event.key === "Escape") {
      event.preventDefault(); // close the suggestions, keep what was typed
      close();
    }
  });
  input.addEventListener("blur", close);
});
