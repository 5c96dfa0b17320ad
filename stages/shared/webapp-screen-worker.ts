// Worker-thread entry of the web-app screening: checks each slice it is given and posts the
// verdicts back (the documents themselves go to the slice's staging file, not through the thread).
// It stays up for the next slice: clean screens one part after another, and loading TypeScript
// into a new thread costs ~0.5 s.
import { parentPort } from 'node:worker_threads';
import { screenSlice, type SliceJob } from './webapp-slice.js';

parentPort!.on('message', (job: SliceJob) => parentPort!.postMessage(screenSlice(job)));
