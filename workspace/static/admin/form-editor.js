// Live preview for the admin form editor: re-renders through the server (the workspace's renderer).
const editor = document.getElementById("form-editor");
const target = document.getElementById("form-preview");
let timer = null;

async function refresh() {
  const body = { schema: editor.elements.schema.value, uischema: editor.elements.uischema.value };
  const response = await fetch(editor.dataset.previewUrl, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": editor.dataset.csrf },
    body: JSON.stringify(body),
  });
  const data = await response.json();
  const problems = Object.values(data.errors || {});
  if (problems.length) {
    const p = document.createElement("p");
    p.className = "govuk-error-message";
    p.textContent = problems.join(" ");
    target.replaceChildren(p);
  } else if (data.html) {
    target.innerHTML = data.html; // rendered and escaped by our own server-side renderer
  }
}

for (const name of ["schema", "uischema"]) {
  editor.elements[name].addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });
}
