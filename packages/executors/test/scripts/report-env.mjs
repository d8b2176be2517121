// Prints what a command agent received: its stdin and its whole environment, as JSON.
let stdin = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (stdin += chunk));
process.stdin.on('end', () => {
  process.stdout.write(JSON.stringify({ stdin, env: process.env, cwd: process.cwd() }) + '\n');
});
