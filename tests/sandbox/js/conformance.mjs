// The official @fal-ai/client, unchanged except for host redirection (a request
// middleware), driven against the genmedia fal emulator. Usage:
//   node conformance.mjs <emulator base URL> <fal key> <multipart MiB>
// Prints one JSON document: {"<check>": {"ok": true, ...} | {"ok": false, "error": ...}}.
import { createHash } from "node:crypto";
import { fal } from "@fal-ai/client";

const [base, key, multipartMiB] = process.argv.slice(2);
const HOSTS = [
  ["https://queue.fal.run", `${base}/queue`],
  ["https://fal.run", `${base}/run`],
  ["https://rest.alpha.fal.ai", `${base}/rest`],
  ["https://rest.fal.ai", `${base}/rest`],
  ["https://v3.fal.media", `${base}/cdn`],
];
const redirect = (url) => {
  for (const [from, to] of HOSTS) {
    if (url.startsWith(from + "/")) return to + url.slice(from.length);
  }
  return url;
};
fal.config({
  credentials: key,
  requestMiddleware: async (request) => ({ ...request, url: redirect(request.url) }),
});

const FLUX = "fal-ai/flux/schnell";
const SLOW = "fal-ai/flux/dev";
const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
const results = {};

async function check(name, fn) {
  try {
    results[name] = { ok: true, ...(await fn()) };
  } catch (error) {
    results[name] = {
      ok: false,
      error: String(error && error.message ? error.message : error),
      status: error && error.status,
      body: error && error.body,
    };
  }
}

await check("subscribe_polling", async () => {
  const statuses = [];
  const result = await fal.subscribe(FLUX, {
    input: { prompt: "a cat" },
    logs: true,
    pollInterval: 50,
    onQueueUpdate: (update) => statuses.push(update.status),
  });
  return { requestId: result.requestId, url: result.data.images[0].url, statuses };
});

await check("subscribe_streaming", async () => {
  const statuses = [];
  const result = await fal.subscribe(FLUX, {
    input: { prompt: "a dog" },
    mode: "streaming",
    logs: true,
    onQueueUpdate: (update) => statuses.push(update.status),
  });
  return { requestId: result.requestId, url: result.data.images[0].url, statuses };
});

await check("cancel", async () => {
  // the emulator's control route: requests to SLOW wait 30 s in the queue
  await fetch(`${base}/_sandbox/timings`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ endpoint_id: SLOW, queue_s: 30 }),
  });
  const { request_id: requestId } = await fal.queue.submit(SLOW, { input: { prompt: "x" } });
  await fal.queue.cancel(SLOW, { requestId });
  const status = await fal.queue.status(SLOW, { requestId, logs: false });
  let resultStatus = null;
  try {
    await fal.queue.result(SLOW, { requestId });
  } catch (error) {
    resultStatus = error.status;
  }
  return { requestId, status: status.status, resultStatus };
});

await check("run", async () => {
  const result = await fal.run(FLUX, { input: { prompt: "a bird" } });
  return { requestId: result.requestId, url: result.data.images[0].url };
});

await check("stream", async () => {
  const stream = await fal.stream(FLUX, { input: { prompt: "a fish" } });
  const events = [];
  for await (const event of stream) events.push(event);
  const done = await stream.done();
  return { events: events.length, url: done.images[0].url };
});

await check("stream_error", async () => {
  let status = null;
  let detail = null;
  const events = [];
  const stream = await fal.stream(FLUX, { input: { num_images: 99 } });
  // handled at once: the client rejects done() as soon as the error reply arrives
  const done = stream.done().then(
    (data) => ({ data }),
    (error) => ({ error }),
  );
  for await (const event of stream) events.push(event); // an error must not arrive as output
  const outcome = await done;
  if (outcome.error) {
    status = outcome.error.status;
    detail = outcome.error.body && outcome.error.body.detail;
  }
  return { status, detail, events: events.length };
});

async function roundTrip(bytes, type) {
  const url = await fal.storage.upload(new Blob([bytes], { type }));
  const fetched = new Uint8Array(await (await fetch(url)).arrayBuffer());
  return { url, size: fetched.length, same: sha256(fetched) === sha256(bytes) };
}

await check("upload", async () => {
  const bytes = new Uint8Array(4096).map((_, i) => (i * 7) % 256);
  return await roundTrip(bytes, "image/png");
});

await check("upload_multipart", async () => {
  const size = Number(multipartMiB) * 1024 * 1024;
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 4096) bytes[i] = (i / 4096) % 251;
  return await roundTrip(bytes, "application/octet-stream");
});

process.stdout.write(JSON.stringify(results) + "\n");
