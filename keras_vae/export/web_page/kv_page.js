// The keras-vae web page: draws from the exported decoder's pools with LiteRT.js.
//
// Automation contract: index.html?pool=K&n=N&seed=S draws N images from pool K (an index or
// a name) with the page's seeded noise, writes
//   {"pool", "pool_name", "n", "seed", "images", "noise", "component", ["choice"],
//    "ms_per_image", "ms_to_first_image", "backend", "threads", "model"}
// into <script type="application/json" id="kv-result"> and sets
// document.body.dataset.ready = "true". An error writes {"error": "..."} there instead and
// shows the same message on the page. Optional: model=<file>.tflite (another batch-1 file
// in this folder), threads=0 (the single-threaded build even when cross-origin isolated),
// backend=webgpu, temperature=T (a number in [0.05, 2], default 1: the noise is scaled by T,
// so z = mean + T * L noise; "noise" in the result is the scaled noise the decoder got).

const started = performance.now();
const $ = (id) => document.getElementById(id);
const MAX_IMAGES = 256;
const state = { config: null, model: null, litert: null, pool: 0, backend: "wasm", threads: false, temperature: 1 };

function finish(result) {
  $("kv-result").textContent = JSON.stringify(result);
  document.body.dataset.ready = "true";
}

class PageError extends Error {}

function fail(error) {
  const message = error instanceof PageError ? error.message : `unexpected error: ${error && error.message || error}`;
  const box = $("kv-error");
  box.textContent = message;
  box.style.display = "block";
  $("kv-status").textContent = "stopped: see the message above.";
  $("kv-draw").disabled = true;
  finish({ error: message });
}

// A seeded uniform generator (mulberry32) and standard normals by Box-Muller: the page
// reports every number it feeds, so nothing depends on matching this generator elsewhere.
function uniforms(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normals(next, count) {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const u = 1 - next();
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < count) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

function integerParameter(params, name, fallback, low, high) {
  const text = params.get(name);
  if (text === null) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < low || Number(text) > high) {
    throw new PageError(`The page expects ${name} as a whole number from ${low} to ${high}; got ${JSON.stringify(text)}.`);
  }
  return Number(text);
}

function numberParameter(params, name, fallback, low, high) {
  const text = params.get(name);
  if (text === null) return fallback;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < low || value > high) {
    throw new PageError(`The page expects ${name} as a number from ${low} to ${high}; got ${JSON.stringify(text)}.`);
  }
  return value;
}

function poolIndex(text) {
  const pools = state.config.pools;
  const names = pools.map((p) => p.name);
  if (text === null) return 0;
  let index = -1;
  if (/^\d+$/.test(text) && Number(text) < pools.length) index = Number(text);
  if (index < 0) index = names.indexOf(text);
  if (index < 0) {
    throw new PageError(
      `Pool ${JSON.stringify(text)} does not exist: this model has ${pools.length} pools, ` +
      `by index 0 to ${pools.length - 1} or by name (${names.join(", ")}).`);
  }
  return index;
}

async function fetchBytes(name, what) {
  let response;
  try {
    response = await fetch(name);
  } catch (error) {
    throw new PageError(`Could not fetch ${what} ${name}: ${error.message}. Serve this folder with \`keras-vae serve <folder>\` and open the address it prints.`);
  }
  if (!response.ok) {
    throw new PageError(`${what} ${name} is missing from this folder (HTTP ${response.status}). Write the folder again with \`keras-vae export --model RUN --output-dir DIR --web\`.`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

async function loadConfig() {
  const bytes = await fetchBytes("web.json", "the page's description");
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new PageError(`web.json is not valid JSON (${error.message}); write the folder again with \`keras-vae export --web\`.`);
  }
}

async function loadModel(params) {
  const config = state.config;
  const name = params.get("model") || config.model;
  if (!/^[\w.-]+\.tflite$/.test(name)) {
    throw new PageError(`The page expects model as the name of a .tflite file in this folder; got ${JSON.stringify(name)}.`);
  }
  const bytes = await fetchBytes(name, "The decoder");
  if (name === config.model && bytes.length !== config.model_bytes) {
    throw new PageError(`The decoder ${name} is damaged: ${bytes.length} bytes where the export wrote ${config.model_bytes} (truncated or replaced). Write the folder again with \`keras-vae export --web\`.`);
  }
  if (typeof WebAssembly !== "object") {
    throw new PageError("This browser has no WebAssembly, which LiteRT.js needs to run the decoder. Open the page in a current Chrome, Edge, Firefox or Safari, or turn WebAssembly (JavaScript JIT) back on in the browser's settings.");
  }
  let litert;
  try {
    litert = await import("./litertjs/core/index.js");
  } catch (error) {
    throw new PageError(`The LiteRT.js runtime (litertjs/core/index.js) did not load: ${error.message}. Write the folder again with \`keras-vae export --web\` (it copies the runtime from \`npm install @litertjs/core@~2.5.3\`).`);
  }
  state.threads = self.crossOriginIsolated === true && params.get("threads") !== "0" &&
    (await litert.supportsFeature("relaxedSimd")) && (await litert.supportsFeature("threads"));
  try {
    await litert.loadLiteRt("./litertjs/wasm/", { threads: state.threads });
  } catch (error) {
    throw new PageError(`The LiteRT.js WebAssembly runtime (litertjs/wasm/) did not load: ${error.message}. Write the folder again with \`keras-vae export --web\`.`);
  }
  const wanted = params.get("backend") || "wasm";
  if (wanted !== "wasm" && wanted !== "webgpu") {
    throw new PageError(`The page expects backend as wasm or webgpu; got ${JSON.stringify(wanted)}.`);
  }
  if (wanted === "webgpu" && !litert.isWebGPUSupported()) {
    throw new PageError("backend=webgpu was asked for, but this browser has no WebGPU; leave out backend to run on the CPU (WebAssembly).");
  }
  let model;
  try {
    model = await litert.loadAndCompile(bytes, { accelerator: wanted });
  } catch (error) {
    throw new PageError(`The decoder ${name} could not be read by LiteRT.js: ${error.message}. Write the folder again with \`keras-vae export --web\`.`);
  }
  const expected = { generate: ["noise", "component"].concat(config.conditional ? ["choice"] : []),
                     decode: ["z"].concat(config.conditional ? ["labels"] : []) };
  for (const [signature, inputs] of Object.entries(expected)) {
    const runner = model.signatures[signature];
    const names = runner ? runner.getInputDetails().map((d) => d.name) : [];
    if (!runner || inputs.some((input) => !names.includes(input))) {
      throw new PageError(`The decoder ${name} has no signature ${signature}(${inputs.join(", ")}) (its signatures: ${Object.keys(model.signatures).join(", ") || "none"}). Export with a sampler: \`keras-vae export --model RUN --output-dir DIR --web\`.`);
    }
  }
  state.litert = litert;
  state.model = model;
  state.modelName = name;
  state.backend = wanted;
}

async function runSignature(signature, feeds) {
  const { Tensor } = state.litert;
  const tensors = {};
  for (const [name, [data, shape]] of Object.entries(feeds)) tensors[name] = new Tensor(data, shape);
  let outputs;
  try {
    outputs = await state.model.run(signature, tensors);
  } finally {
    for (const tensor of Object.values(tensors)) tensor.delete();
  }
  const values = Object.values(outputs);
  const raw = values[0].toTypedArray();
  const image = raw instanceof Uint8Array ? Float32Array.from(raw, (v) => v / 255) : Float32Array.from(raw);
  for (const tensor of values) tensor.delete();
  return image;
}

async function draw(pool, n, seed, temperature = state.temperature) {
  const config = state.config;
  const d = config.latent_dim;
  const next = uniforms(seed);
  const result = { pool, pool_name: config.pools[pool].name, n, seed, temperature, images: [], noise: [], component: [] };
  if (config.conditional) result.choice = [];
  const times = [];
  for (let i = 0; i < n; i++) {
    const noise = normals(next, d).map((v) => v * temperature);
    const feeds = { noise: [noise, [1, d]], component: [new Int32Array([pool]), [1]] };
    if (config.conditional) {
      const choice = Math.floor(next() * config.choice_levels);
      feeds.choice = [new Int32Array([choice]), [1]];
      result.choice.push(choice);
    }
    const t0 = performance.now();
    const image = await runSignature("generate", feeds);
    times.push(performance.now() - t0);
    if (state.firstImageAt === undefined) state.firstImageAt = performance.now() - started;
    result.noise.push(Array.from(noise));
    result.component.push(pool);
    result.images.push(Array.from(image));
  }
  // The first run of a compiled model includes its warm-up; the rest is the steady rate.
  const steady = times.length > 1 ? times.slice(1) : times;
  result.ms_per_image = steady.reduce((a, b) => a + b, 0) / steady.length;
  result.ms_first_run = times[0];
  result.ms_to_first_image = state.firstImageAt;
  result.backend = state.backend;
  result.threads = state.threads;
  result.model = state.modelName;
  return result;
}

function paint(canvas, image) {
  const [h, w, c] = state.config.image_shape;
  canvas.width = w;
  canvas.height = h;
  const context = canvas.getContext("2d");
  const pixels = context.createImageData(w, h);
  for (let i = 0; i < h * w; i++) {
    for (let k = 0; k < 3; k++) {
      const v = image[i * c + (c === 1 ? 0 : k)];
      pixels.data[i * 4 + k] = Math.max(0, Math.min(255, Math.round(v * 255)));
    }
    pixels.data[i * 4 + 3] = 255;
  }
  context.putImageData(pixels, 0, 0);
}

function showGrid(result) {
  const grid = $("kv-grid");
  grid.replaceChildren();
  grid.style.gridTemplateColumns = `repeat(${Math.min(8, result.n)}, 1fr)`;
  for (const image of result.images) {
    const canvas = document.createElement("canvas");
    paint(canvas, image);
    grid.appendChild(canvas);
  }
  $("kv-draw-time").textContent = `${result.n} images from pool ${result.pool_name}, ${result.ms_per_image.toFixed(2)} ms per image`;
  $("kv-status").textContent =
    `backend: ${state.backend === "wasm" ? "WebAssembly (CPU)" : "WebGPU"}` +
    `${state.threads ? ", threaded" : ", 1 thread"} | first image ${state.firstImageAt.toFixed(0)} ms after opening | ` +
    `${result.ms_per_image.toFixed(2)} ms per image | model ${state.modelName}`;
}

// The explorer: z = mean of the chosen pool + (x - x_k) u1 + (y - y_k) u2, where (x_k, y_k)
// are that mean's coordinates on the two leading principal directions u1, u2 of the means.
function latentAt(x, y) {
  const { explorer, pools } = state.config;
  const mean = pools[state.pool].mean;
  const [xk, yk] = explorer.coordinates[state.pool];
  const [u1, u2] = explorer.directions;
  return Float32Array.from(mean, (m, j) => m + (x - xk) * u1[j] + (y - yk) * u2[j]);
}

async function explore(x, y) {
  const config = state.config;
  const feeds = { z: [latentAt(x, y), [1, config.latent_dim]] };
  if (config.conditional) {
    const labels = new Float32Array(config.num_classes);
    labels[state.pool] = 1;
    feeds.labels = [labels, [1, config.num_classes]];
  }
  const t0 = performance.now();
  const image = await runSignature("decode", feeds);
  $("kv-explore-time").textContent = `${(performance.now() - t0).toFixed(2)} ms`;
  paint($("kv-view"), image);
  state.explorerPoint = [x, y];
  drawPad();
  return Array.from(image);
}

function padScale() {
  const pad = $("kv-pad");
  const extent = state.config.explorer.extent;
  return { pad, toPixel: (v, size) => ((v + extent) / (2 * extent)) * size,
           toValue: (p, size) => (p / size) * 2 * extent - extent };
}

function drawPad() {
  const { pad, toPixel } = padScale();
  const context = pad.getContext("2d");
  context.clearRect(0, 0, pad.width, pad.height);
  context.font = "11px sans-serif";
  state.config.explorer.coordinates.forEach(([x, y], i) => {
    const px = toPixel(x, pad.width), py = pad.height - toPixel(y, pad.height);
    context.fillStyle = i === state.pool ? "#1f5fbf" : "#888";
    context.beginPath();
    context.arc(px, py, i === state.pool ? 5 : 3.5, 0, 2 * Math.PI);
    context.fill();
    const label = state.config.pools[i].name;
    const right = px + 6 + context.measureText(label).width < pad.width;
    context.fillText(label, right ? px + 6 : px - 6 - context.measureText(label).width, py + 4);
  });
  if (state.explorerPoint) {
    const [x, y] = state.explorerPoint;
    const px = toPixel(x, pad.width), py = pad.height - toPixel(y, pad.height);
    context.strokeStyle = "#d32f2f";
    context.lineWidth = 2;
    context.beginPath();
    context.moveTo(px - 7, py); context.lineTo(px + 7, py);
    context.moveTo(px, py - 7); context.lineTo(px, py + 7);
    context.stroke();
  }
}

// Pointer moves arrive faster than decodes: keep only the latest point while one runs.
function wirePad() {
  const { pad, toValue } = padScale();
  let busy = false, pending = null;
  async function request(point) {
    pending = point;
    if (busy) return;
    busy = true;
    while (pending) {
      const [x, y] = pending;
      pending = null;
      try { await explore(x, y); } catch (error) { fail(error); }
    }
    busy = false;
  }
  const onPointer = (event) => {
    if (event.type === "pointermove" && event.buttons === 0) return;
    const box = pad.getBoundingClientRect();
    request([toValue(event.clientX - box.left, box.width), toValue(box.bottom - event.clientY, box.height)]);
  };
  pad.addEventListener("pointerdown", onPointer);
  pad.addEventListener("pointermove", onPointer);
}

function selectPool(index) {
  state.pool = index;
  for (const button of $("kv-pools").children) {
    button.setAttribute("aria-pressed", String(Number(button.dataset.pool) === index));
  }
  const [x, y] = state.config.explorer.coordinates[index];
  return explore(x, y);
}

function freshSeed() {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

async function main() {
  const params = new URLSearchParams(location.search);
  for (const key of params.keys()) {
    if (!["pool", "n", "seed", "model", "threads", "backend", "temperature"].includes(key)) {
      throw new PageError(`The page does not know the parameter ${JSON.stringify(key)}; it takes pool, n, seed, model, threads, backend and temperature.`);
    }
  }
  const n = integerParameter(params, "n", 16, 1, MAX_IMAGES);
  const seed = integerParameter(params, "seed", freshSeed(), 0, 4294967295);
  state.temperature = numberParameter(params, "temperature", 1, 0.05, 2);
  state.config = await loadConfig();
  const pool = poolIndex(params.get("pool"));
  await loadModel(params);
  state.pool = pool;
  // For scripts and tests: the same functions the buttons and the pad call.
  window.kv = { config: state.config, draw, explore, selectPool, latentAt };
  const result = await draw(pool, n, seed);
  showGrid(result);
  finish(result);

  const pools = $("kv-pools");
  state.config.pools.forEach((p, i) => {
    const button = document.createElement("button");
    button.textContent = p.name;
    button.dataset.pool = String(i);
    button.title = `pool ${i}: ${p.name}`;
    button.addEventListener("click", () => selectPool(i).catch(fail));
    pools.appendChild(button);
  });
  wirePad();
  await selectPool(pool);
  const drawButton = $("kv-draw");
  drawButton.disabled = false;
  drawButton.addEventListener("click", async () => {
    drawButton.disabled = true;
    try {
      const next = await draw(state.pool, n, freshSeed());
      showGrid(next);
      finish(next);
    } catch (error) {
      fail(error);
    }
    drawButton.disabled = false;
  });
}

main().catch(fail);
