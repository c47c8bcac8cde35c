// The page at /: photos or a webcam snapshot to POST v1/predict, the answer drawn over each image.
// Plain JavaScript and a canvas; every URL is relative, so the page works behind a path prefix.
"use strict";

const statusLine = document.getElementById("status");
const results = document.getElementById("results");
const video = document.getElementById("video");
const cameraButton = document.getElementById("camera");
const snapButton = document.getElementById("snap");
const BOX = "#00a000";
let classes = [];
let maxFiles = 16;
let camera = null;

function element(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

function say(text, isError = false) {
  statusLine.textContent = text;
  statusLine.classList.toggle("error", isError);
}

function percent(p) {
  return `${Math.round(100 * p)}%`;
}

async function loadModel() {
  const response = await fetch("v1/model");
  const model = await response.json();
  classes = model.classes;
  maxFiles = model.limits.max_files;
  const accuracy = model.card && model.card.publictest_accuracy;
  document.getElementById("model").textContent =
    `Model: ${model.model || model.estimator}` +
    (accuracy ? `, ${(100 * accuracy).toFixed(1)}% validation accuracy on FER2013 PublicTest` : "") +
    ` · skfer ${model.versions.skfer}`;
}

// Uploads named uniquely, so that each answer row finds its image.
function named(blobs) {
  const seen = new Map();
  return blobs.map(({ name, blob }) => {
    const count = (seen.get(name) || 0) + 1;
    seen.set(name, count);
    if (count === 1) return { name, blob };
    const dot = name.lastIndexOf(".");
    const stem = dot > 0 ? name.slice(0, dot) : name;
    return { name: `${stem} (${count})${dot > 0 ? name.slice(dot) : ""}`, blob };
  });
}

async function predict(blobs) {
  const uploads = named(blobs);
  const rows = [];
  for (let start = 0; start < uploads.length; start += maxFiles) {
    const part = uploads.slice(start, start + maxFiles);
    say(`Finding the faces in ${uploads.length === 1 ? uploads[0].name : `${uploads.length} photos`}…`);
    const form = new FormData();
    for (const upload of part) form.append("file", upload.blob, upload.name);
    let answer;
    try {
      const response = await fetch("v1/predict", { method: "POST", body: form });
      answer = await response.json();
      if (!response.ok) {
        say(answer.error || `The service answered ${response.status}.`, true);
        return;
      }
    } catch (error) {
      say(`The service did not answer: ${error.message}`, true);
      return;
    }
    rows.push(...answer.rows);
  }
  results.replaceChildren();
  for (const upload of uploads) {
    results.append(await card(upload, rows.filter((row) => row.file === upload.name)));
  }
  const faces = rows.filter((row) => row.status === "ok").length;
  say(`${faces} face${faces === 1 ? "" : "s"} in ${uploads.length} photo${uploads.length === 1 ? "" : "s"}.`);
}

function drawFaces(canvas, image, faces) {
  const scale = Math.min(1, 720 / image.width);
  canvas.width = Math.round(image.width * scale);
  canvas.height = Math.round(image.height * scale);
  canvas.dataset.scale = String(scale);
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0, canvas.width, canvas.height);
  const thickness = Math.max(3, Math.round(Math.max(canvas.width, canvas.height) / 240));
  context.lineWidth = thickness;
  context.font = `bold ${Math.max(14, Math.round(canvas.width / 40))}px system-ui, sans-serif`;
  context.textBaseline = "top";
  faces.forEach((face, index) => {
    const [x, y, w, h] = [face.x, face.y, face.w, face.h].map((v) => Math.round(v * scale));
    context.strokeStyle = BOX;
    context.strokeRect(x, y, w, h);
    const label = `${index + 1}. ${face.emotion} ${percent(face[face.emotion])}`;
    const height = parseInt(context.font.match(/(\d+)px/)[1], 10) + 2 * thickness;
    const width = context.measureText(label).width + 2 * thickness;
    const top = y >= height ? y - height : y + h;
    context.fillStyle = BOX;
    context.fillRect(x - thickness / 2, top, width, height);
    context.fillStyle = "#ffffff";
    context.fillText(label, x + thickness / 2, top + thickness);
  });
}

function bars(face) {
  const grid = element("div", { class: "bars" });
  for (const name of classes) {
    const p = face[name];
    const row = name === face.emotion ? "top" : "";
    const track = element("div", { class: `track ${row}`, role: "meter", "aria-label": name,
      "aria-valuemin": "0", "aria-valuemax": "1", "aria-valuenow": String(p) });
    const fill = element("div", { class: "fill" });
    fill.style.width = `${(100 * p).toFixed(1)}%`;
    track.append(fill);
    grid.append(element("span", {}, name), track, element("span", { class: "value" }, percent(p)));
  }
  return grid;
}

async function card(upload, rows) {
  const article = element("article", { class: "photo" });
  article.append(element("h2", {}, upload.name));
  const faces = rows.filter((row) => row.status === "ok");
  try {
    const image = await createImageBitmap(upload.blob);
    const canvas = element("canvas", { "aria-label": `${upload.name} with ${faces.length} faces marked` });
    drawFaces(canvas, image, faces);
    article.append(canvas);
  } catch {
    // An image the browser cannot show: its status row says what the service made of it.
  }
  const list = element("div", { class: "faces" });
  for (const row of rows.filter((r) => r.status !== "ok")) {
    list.append(element("p", { class: "note" }, `${row.status}: ${row.reason}`));
  }
  faces.forEach((face, index) => {
    const item = element("section", { class: "face", "data-emotion": face.emotion,
      "data-box": [face.x, face.y, face.w, face.h].join(",") });
    item.append(element("h3", {}, `Face ${index + 1}: ${face.emotion} ${percent(face[face.emotion])}`), bars(face));
    list.append(item);
  });
  article.append(list);
  return article;
}

async function toggleCamera() {
  if (camera) {
    camera.getTracks().forEach((track) => track.stop());
    camera = null;
    video.hidden = snapButton.hidden = true;
    cameraButton.textContent = "Use the webcam";
    return;
  }
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    say("This browser offers no webcam here (it needs https, or the page opened as localhost).", true);
    return;
  }
  try {
    camera = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
  } catch (error) {
    say(`No webcam: ${error.message}`, true);
    return;
  }
  video.srcObject = camera;
  video.hidden = snapButton.hidden = false;
  cameraButton.textContent = "Stop the webcam";
  say("Take the snapshot when ready.");
}

function snapshot() {
  const canvas = element("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  canvas.toBlob((blob) => predict([{ name: "webcam.png", blob }]), "image/png");
}

document.getElementById("files").addEventListener("change", (event) => {
  const files = [...event.target.files].map((file) => ({ name: file.name, blob: file }));
  if (files.length) predict(files);
  event.target.value = "";
});
cameraButton.addEventListener("click", toggleCamera);
snapButton.addEventListener("click", snapshot);
loadModel().catch((error) => say(`Could not read the model's description: ${error.message}`, true));
