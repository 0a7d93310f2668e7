import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { S3Bucket } from "@ws/mount-s3";
import { R2Bucket } from "@ws/mount-r2";
import { PostgresMetadata, SharedMount } from "@ws/shared";
import { startMoto, startPostgres, startMiniflareR2Http, r2HttpBinding } from "@ws/test-servers";
import { loadavg } from "node:os";
const moto = await startMoto(); const pg = await startPostgres(); const r2 = await startMiniflareR2Http();
const clientConfig = { endpoint: moto.endpoint, region: moto.region, forcePathStyle: true, credentials: { accessKeyId: "x", secretAccessKey: "x" } };
async function bucket(n) { const c = new S3Client(clientConfig); await c.send(new CreateBucketCommand({ Bucket: n })); c.destroy(); return n; }
const setups = {
  "x-t1-moto": async () => SharedMount(S3Bucket({ bucket: await bucket("prof-1"), clientConfig, mode: "read-write" }), { mode: "read-write", pollMs: 100, reconcileMs: 0 }),
  "t1-r2": async () => SharedMount(R2Bucket(r2HttpBinding(r2.info()), { mode: "read-write", prefix: "p" }), { mode: "read-write", pollMs: 100, reconcileMs: 0 }),
  "x-t2-moto": async () => SharedMount(S3Bucket({ bucket: await bucket("prof-2"), clientConfig, mode: "read-write" }), { mode: "read-write", metadata: PostgresMetadata({ connectionString: pg.connectionString, table: "prof" }) }),
};
try {
for (const [name, make] of Object.entries(setups).filter(([n]) => !n.startsWith("x-"))) {
  const m = await make(); await m.ready();
  const t = { puts: 0, rename: 0 }; const T = 5;
  for (let trial = 0; trial < T; trial++) {
    const ops = Array.from({ length: 50 }, (_, i) => ({ op: "put", path: `.tmp-${trial}/part-${i}.json`, bytes: `{"t":${trial},"i":${i}}` }));
    let a = performance.now();
    for (let i = 0; i < 50; i += 10) await m.commit(ops.slice(i, i + 10));
    let b = performance.now(); await m.rename(`.tmp-${trial}`, `pub-${trial}`); let c = performance.now();
    t.puts += b - a; t.rename += c - b;
  }
  console.log(name, "per trial: 5 commits of 10", (t.puts / T).toFixed(0), "ms; rename", (t.rename / T).toFixed(0), "ms; load", loadavg()[0].toFixed(1), JSON.stringify(m.stats));
  await m.dispose();
}
} finally { await moto.stop(); await pg.stop(); await r2.stop(); }
