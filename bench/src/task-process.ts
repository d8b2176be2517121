import type { TaskMessage } from './processes.js';
import { taskTable } from './tasks.js';

/**
 * Entry of a task process (bundled to `dist/task-process.js`): runs the task named by the first
 * argument with the JSON arguments in the second, sends the result to the parent and exits, so no
 * open handle of a library keeps the process alive.
 */
async function main(): Promise<void> {
  // Profiles name the packages bundled into this process through the bundle's source maps.
  process.setSourceMapsEnabled(true);
  const [name, json] = process.argv.slice(2);
  const task = taskTable(process.argv[1]!)[name ?? ''];
  let message: TaskMessage;
  try {
    if (!task) throw new Error(`no task named ${name}`);
    message = { type: 'result', value: await task(JSON.parse(json ?? '{}') as never) };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    message = { type: 'error', message: e.message, ...(e.stack ? { stack: e.stack } : {}) };
  }
  process.send!(message, () => process.exit(message.type === 'result' ? 0 : 1));
}

void main();
