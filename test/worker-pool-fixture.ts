/**
 * @module A worker module for io/worker-pool.test.ts: answers a number with its double and the
 * worker's workerData, throws for a negative one, and ends its thread for 'exit'.
 */
import { threadId } from 'node:worker_threads';
import { serveWorkerTasks } from '../io/worker-pool.js';

serveWorkerTasks(
  (data) => ({ data, threadId }),
  (state, task: number | 'exit') => {
    if (task === 'exit') process.exit(3);
    if (task < 0) throw new RangeError(`negative: ${task}`);
    return { double: 2 * task, data: state.data, threadId: state.threadId };
  },
);
