// Admin BPMN modeller: bpmn-js (window.BpmnJS, vendored) + the casework settings panel.
// Loads the draft's XML, saves it with fetch + X-CSRF-Token, lists the engine's problems with links that
// select the element, and writes casework properties through the server (admin/editor_views.py).
const root = document.getElementById("modeller");
const cfg = root.dataset;
const editable = cfg.editable === "true";
const modeler = new window.BpmnJS({ container: "#canvas" }); // keyboard shortcuts work while the canvas has focus
let version = null;
let current = null; // element id shown in the panel

const statusBox = document.getElementById("save-status");
const problemsArea = document.getElementById("problems-area");

function say(text) { statusBox.textContent = text; }

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": cfg.csrf },
    body: JSON.stringify(body),
  });
  let data = {};
  try { data = await response.json(); } catch (e) { data = { error: { message: "The server did not answer" } }; }
  return { status: response.status, data };
}

function selectElement(id) {
  const element = modeler.get("elementRegistry").get(id);
  if (!element) { say(`There is no element ${id} in the diagram`); return false; }
  modeler.get("selection").select(element);
  try { modeler.get("canvas").scrollToElement(element); } catch (e) { /* older canvas */ }
  return true;
}

function renderProblems(problems) {
  problemsArea.replaceChildren();
  if (!problems.length) {
    const p = document.createElement("p");
    p.className = "govuk-body"; p.id = "no-problems"; p.textContent = "No problems.";
    problemsArea.append(p);
    return;
  }
  const table = document.createElement("table");
  table.className = "govuk-table"; table.id = "problems";
  const caption = table.createCaption();
  caption.className = "govuk-table__caption govuk-table__caption--m";
  caption.textContent = `Problems the engine found (${problems.length})`;
  const body = table.createTBody();
  body.className = "govuk-table__body";
  for (const problem of problems) {
    const row = body.insertRow(); row.className = "govuk-table__row";
    const where = row.insertCell(); where.className = "govuk-table__cell";
    if (problem.element_id) {
      const a = document.createElement("a");
      a.className = "govuk-link casework-problem-link"; a.href = problem.link || "#";
      a.dataset.elementId = problem.element_id;
      a.textContent = problem.element_name || problem.element_id;
      where.append(a);
    } else {
      where.textContent = problem.file || "Whole model";
    }
    const what = row.insertCell(); what.className = "govuk-table__cell"; what.textContent = problem.message;
    const sev = row.insertCell(); sev.className = "govuk-table__cell";
    sev.textContent = problem.severity === "error" ? "Error" : "Warning";
  }
  problemsArea.append(table);
}

problemsArea.addEventListener("click", (event) => {
  const link = event.target.closest("a.casework-problem-link");
  if (!link) return;
  event.preventDefault();
  selectElement(link.dataset.elementId);
});

function showConflict(message, xml) {
  const box = document.getElementById("conflict");
  document.getElementById("conflict-message").textContent = message;
  const blob = new Blob([xml], { type: "application/xml" });
  document.getElementById("conflict-download").href = URL.createObjectURL(blob);
  box.hidden = false; box.focus();
}

async function save() {
  const { xml } = await modeler.saveXML({ format: true });
  say("Saving…");
  const { status, data } = await post(cfg.saveUrl, { file: cfg.file, xml, version });
  if (status === 200) {
    version = data.version;
    document.getElementById("conflict").hidden = true;
    say(data.problems.length ? `Saved. ${data.problems.length} problem(s) to look at.` : "Saved. No problems.");
    renderProblems(data.problems);
  } else if (status === 409) {
    say("Not saved: someone else changed the draft.");
    showConflict(data.error.message, xml);
  } else {
    say(`Not saved: ${data.error ? data.error.message : status}`);
  }
}

// ------------------------------------------------------------------------------------- casework panel
const form = document.getElementById("panel-form");
const hint = document.getElementById("panel-hint");
const panelError = document.getElementById("panel-error");
const PANEL_KINDS = ["userTask", "manualTask", "lane", "serviceTask"];

function fieldsFor(kind) {
  return [...form.querySelectorAll(".casework-panel-group")].filter((g) => g.dataset.kinds.split(" ").includes(kind));
}

let panelRequest = 0; // only the latest selection's answer may fill the panel (a slow older one must not)

async function showPanel(element) {
  const mine = ++panelRequest;
  panelError.hidden = true;
  // Until this selection's answer has filled the panel, it does not claim to show any element and Apply waits:
  // an earlier answer arriving late must not overwrite what the person chooses next.
  form.dataset.element = "";
  form.setAttribute("aria-busy", "true");
  const type = element && element.businessObject ? element.businessObject.$type.replace("bpmn:", "") : "";
  const kind = type ? type[0].toLowerCase() + type.slice(1) : null; // bpmn:UserTask -> userTask
  if (!kind || !PANEL_KINDS.includes(kind)) {
    form.removeAttribute("aria-busy");
    form.hidden = true; hint.hidden = false; current = null; form.dataset.element = ""; return;
  }
  const { xml } = await modeler.saveXML();
  const { status, data } = await post(cfg.describeUrl, { xml, element_id: element.id });
  if (mine !== panelRequest) return;
  form.removeAttribute("aria-busy");
  if (status !== 200) { form.hidden = true; hint.hidden = false; hint.textContent = data.error.message; return; }
  current = element.id;
  document.getElementById("panel-element").textContent = `${data.name || data.id} (${kind})`;
  for (const group of form.querySelectorAll(".casework-panel-group")) {
    const on = fieldsFor(kind).includes(group);
    group.hidden = !on;
    for (const input of group.querySelectorAll("input, select, textarea")) input.disabled = !on || !editable;
    for (const inner of group.querySelectorAll("[data-kinds]")) {
      const innerOn = inner.dataset.kinds.split(" ").includes(kind);
      inner.hidden = !innerOn;
      for (const input of inner.querySelectorAll("input, select, textarea")) input.disabled = !on || !innerOn || !editable;
    }
  }
  for (const [name, value] of Object.entries(data.fields)) {
    for (const input of form.querySelectorAll(`[name="${name}"]`)) {
      if (input.disabled) continue;
      if (input.tagName === "SELECT" && value && ![...input.options].some((o) => o.value === value)) {
        input.add(new Option(`${value} (unknown)`, value));
      }
      input.value = value;
    }
  }
  form.hidden = false; hint.hidden = true;
  form.dataset.element = element.id; // tests (and people) can tell the panel shows this element now
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!current || !editable || form.getAttribute("aria-busy") === "true") return;
  const values = {};
  for (const input of form.querySelectorAll("input, select, textarea")) {
    if (!input.disabled && input.name) values[input.name] = input.value;
  }
  const { xml } = await modeler.saveXML({ format: true });
  const { status, data } = await post(cfg.propertiesUrl, { file: cfg.file, xml, version, element_id: current, values });
  if (status === 200) {
    version = data.version;
    const keep = current;
    await modeler.importXML(data.xml);
    selectElement(keep);
    renderProblems(data.problems);
    say("Settings applied and saved.");
  } else if (status === 409) {
    showConflict(data.error.message, xml);
  } else {
    const details = data.error && data.error.details ? Object.values(data.error.details).filter((v) => typeof v === "string") : [];
    panelError.textContent = details.length ? details.join(" ") : data.error.message;
    panelError.hidden = false;
  }
});

modeler.on("selection.changed", (event) => {
  const selected = event.newSelection;
  showPanel(selected.length === 1 ? selected[0] : null);
});

// ------------------------------------------------------------------------------------------------ start
async function start() {
  const response = await fetch(cfg.sourceUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
  const data = await response.json();
  version = data.version;
  try {
    const result = await modeler.importXML(data.xml);
    if (result.warnings && result.warnings.length) say(`Opened with ${result.warnings.length} warning(s) from the modeller.`);
  } catch (error) {
    say(`The modeller cannot draw this file: ${error.message}`);
    return;
  }
  modeler.get("canvas").zoom("fit-viewport");
  if (cfg.select) selectElement(cfg.select);
  root.dataset.ready = "true";
}

const saveButton = document.getElementById("save-diagram");
if (saveButton) saveButton.addEventListener("click", save);
start();
window.caseworkModeller = { modeler, save, selectElement };
