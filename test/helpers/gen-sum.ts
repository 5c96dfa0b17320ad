// A two-stage pipeline the push/pull and versions-diff tests share: gen writes one file per word of
// data/in.txt into the folder out/gen (and reports the word count as its records; BIG_MB=N adds one
// N MiB file for the large-transfer cases), sum counts gen's files into out/sum.txt.
import { stage } from './workspace.js';

export const GEN_SUM_PIPELINE = `stages:
  gen:
    cmd: stages/gen.mjs
    deps: [data/in.txt]
    outs: [out/gen]
  sum:
    cmd: stages/sum.mjs
    deps: [out/gen]
    outs: [out/sum.txt]
`;

export const GEN_SUM_SOURCES = {
  'pipeline.yaml': GEN_SUM_PIPELINE,
  'stages/gen.mjs': stage`
    const words = fs.readFileSync('data/in.txt', 'utf8').trim().split(/\\s+/);
    const dir = out('out/gen');
    fs.mkdirSync(dir, { recursive: true });
    words.forEach((w, i) => fs.writeFileSync(path.join(dir, 'w' + i + '.txt'), w + '\\n'));
    if (process.env.BIG_MB) fs.writeFileSync(path.join(dir, 'big.bin'), Buffer.alloc(Number(process.env.BIG_MB) << 20, words[0]));
    fs.writeFileSync(process.env.PIPE_METRICS_FILE, JSON.stringify({ records: words.length }));`,
  'stages/sum.mjs': stage`
    fs.writeFileSync(out('out/sum.txt'), fs.readdirSync('out/gen').length + ' files\\n');`,
};
