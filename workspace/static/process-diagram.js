// Read-only process diagram (vendored bpmn-js viewer): marks done and current steps. The page lists the same
// steps as text, so nothing depends on this script.
const box = document.getElementById("process-diagram");
if (box && window.BpmnJS) {
  const viewer = new window.BpmnJS({ container: box });
  fetch(box.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((r) => r.json())
    .then(async (data) => {
      await viewer.importXML(data.xml);
      const canvas = viewer.get("canvas");
      const registry = viewer.get("elementRegistry");
      for (const id of data.done) { if (registry.get(id)) canvas.addMarker(id, "casework-step-done"); }
      for (const id of data.current) { if (registry.get(id)) canvas.addMarker(id, "casework-step-current"); }
      canvas.zoom("fit-viewport");
    })
    .catch(() => { box.textContent = "The diagram could not be shown; the steps are listed on this page."; });
}
