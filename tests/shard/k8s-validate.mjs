// Validate contrib/kubernetes/*.yaml against the Kubernetes API schemas
// (npm kubernetes-models: each object's validate() runs the OpenAPI
// schema of its apiVersion/kind), plus the rules the sweep depends on.
// usage: node k8s-validate.mjs NODE_MODULES_DIR CONTRIB_DIR OUTDIR
// Writes OUTDIR/sweep-args.sh and OUTDIR/merge-args.sh (the pods' shell
// scripts) and OUTDIR/shards (BSW_SHARDS) for the local run of the test.
import { createRequire } from "module";
import { readFileSync, writeFileSync, readdirSync } from "fs";
import { join } from "path";
import { pathToFileURL } from "url";

const [nm, dir, out] = process.argv.slice(2);
const yaml = createRequire(join(nm, "x.js"))("js-yaml");
const load = async (m) => import(pathToFileURL(join(nm, "kubernetes-models", m, "index.js")).href);
const kinds = {
  "batch/v1 Job": async () => (await load("batch/v1")).Job,
  "v1 PersistentVolumeClaim": async () => (await load("v1")).PersistentVolumeClaim,
};
let bad = 0;
const fail = (f, why) => { console.log(`FAIL ${f}: ${why}`); bad++; };
const docs = [];
for (const f of readdirSync(dir).filter((n) => n.endsWith(".yaml")).sort()) {
  for (const d of yaml.loadAll(readFileSync(join(dir, f), "utf8"))) {
    if (!d) continue;
    const k = `${d.apiVersion} ${d.kind}`;
    if (!kinds[k]) { fail(f, `no validator for ${k}`); continue; }
    const Cls = await kinds[k]();
    try {
      new Cls(d).validate();
      console.log(`ok   ${f}: ${k} ${d.metadata.name} is valid against the ${d.apiVersion} schema`);
    } catch (e) {
      fail(f, `${k} ${d.metadata && d.metadata.name}: ${e.message}`);
    }
    docs.push({ f, d });
  }
}
// the validator is real: a broken Job must be refused
{
  const Job = await kinds["batch/v1 Job"]();
  const sweep = docs.find((x) => x.d.metadata.name === "bootsweep-sweep");
  const broken = JSON.parse(JSON.stringify(sweep.d));
  broken.spec.completionMode = "Indexd";
  broken.spec.completions = "16";
  try { new Job(broken).validate(); fail("negative control", "a Job with completionMode Indexd was accepted"); }
  catch (e) { console.log(`ok   negative control refused: ${e.message.split("\n")[0]}`); }
}
const sweep = docs.find((x) => x.d.metadata.name === "bootsweep-sweep");
const merge = docs.find((x) => x.d.metadata.name === "bootsweep-merge");
if (!sweep || !merge) { fail("manifests", "bootsweep-sweep and bootsweep-merge Jobs wanted"); process.exit(1); }
const s = sweep.d.spec, c = s.template.spec.containers[0];
const env = Object.fromEntries(c.env.map((e) => [e.name, e.value]));
if (s.completionMode !== "Indexed") fail("sweep", "completionMode is not Indexed");
if (String(s.completions) !== env.BSW_SHARDS) fail("sweep", `completions ${s.completions} != BSW_SHARDS ${env.BSW_SHARDS}`);
const mnt = Object.fromEntries(c.volumeMounts.map((m) => [m.name, m]));
if (!mnt.store || mnt.store.readOnly !== true) fail("sweep", "the store is not mounted read-only");
const vol = s.template.spec.volumes.find((v) => v.name === "store");
if (!vol.persistentVolumeClaim || vol.persistentVolumeClaim.readOnly !== true) fail("sweep", "the store claim is not read-only");
if (!mnt.results || mnt.results.readOnly) fail("sweep", "results are not writable");
const mi = (q) => { const m = /^(\d+)(Mi|Gi)$/.exec(q); return m ? +m[1] * (m[2] === "Gi" ? 1024 : 1) : NaN; };
const lim = mi(c.resources.limits.memory), req = mi(c.resources.requests.memory), cap = +env.BSW_MEM_CAP;
// the sweep's resident set at -j 2 was 527-573 MiB (docs/bench.md) with the
// default 1024 MiB cap not reached; the buffers may reach the cap on top
if (!(lim >= cap + 600)) fail("sweep", `memory limit ${lim} MiB < --mem-cap ${cap} + 600 MiB`);
if (req !== lim) fail("sweep", `memory request ${req} != limit ${lim} (Guaranteed QoS wanted)`);
if (!/--resume/.test(c.args[0])) fail("sweep", "pods must run scan with --resume");
const ms = merge.d.spec.template.spec.containers[0];
if (!/bootsweep merge/.test(ms.args[0])) fail("merge", "no bootsweep merge");
const plan = docs.find((x) => x.d.metadata.name === "bootsweep-plan");
if (plan) {
  const pc = plan.d.spec.template.spec.containers[0];
  const penv = Object.fromEntries(pc.env.map((e) => [e.name, e.value]));
  if (penv.BSW_SHARDS !== env.BSW_SHARDS) fail("plan", `BSW_SHARDS ${penv.BSW_SHARDS} != the sweep's ${env.BSW_SHARDS}`);
  if (penv.RUN !== env.RUN) fail("plan", "RUN differs from the sweep's");
  const pm = Object.fromEntries(pc.volumeMounts.map((m) => [m.name, m]));
  if (!pm.store || pm.store.readOnly !== true) fail("plan", "the store is not mounted read-only");
  writeFileSync(join(out, "plan-args.sh"), pc.args[0]);
}
writeFileSync(join(out, "sweep-args.sh"), c.args[0]);
writeFileSync(join(out, "merge-args.sh"), ms.args[0]);
writeFileSync(join(out, "shards"), env.BSW_SHARDS + "\n");
writeFileSync(join(out, "run"), env.RUN + "\n");
console.log(bad ? `${bad} problems` : "all manifests valid");
process.exit(bad ? 1 : 0);
