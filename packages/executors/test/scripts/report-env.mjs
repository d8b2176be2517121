// Prints what a command agent received: its stdin and the SYMBI_* / test environment, as JSON.
let stdin = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (stdin += chunk));
process.stdin.on('end', () => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('SYMBI_') || name.startsWith('TEST_')));
  process.stdout.write(JSON.stringify({ stdin, env, cwd: process.cwd() }) + '\n');
});
