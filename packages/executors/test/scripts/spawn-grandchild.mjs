// Starts `sleep 60` as its own child (the agent's grandchild), records its pid, and waits forever.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const grandchild = spawn('sleep', ['60'], { stdio: 'ignore' });
writeFileSync(process.argv[2], `${process.pid} ${grandchild.pid}\n`);
setInterval(() => {}, 1_000);
