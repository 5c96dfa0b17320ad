// Worker-thread entry of the web-app screening: checks the slice it is given and posts the
// verdicts back (the documents themselves go to the slice's staging file, not through the thread).
import { parentPort, workerData } from 'node:worker_threads';
import { screenSlice, type SliceJob } from './webapp-slice.js';

parentPort!.postMessage(screenSlice(workerData as SliceJob));
