/**
 * A real Tarn process (`node --import tsx src/main.ts`), as an operator runs it: its
 * stdout lines (JSON logs) are kept for the test to read; stop() sends SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const projectDir = fileURLToPath(new URL('../../../', import.meta.url));

export interface TarnProcess {
  url: string;
  port: number;
  child: ChildProcess;
  lines: string[];
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `port` 0: the process picks a free one itself (no race with other tests) and logs it. */
export async function startTarnProcess(port: number, env: Record<string, string>): Promise<TarnProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: projectDir,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      PORT: String(port),
      SMTP_URL: 'smtp://127.0.0.1:9',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const onText = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.pattern.test(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  };
  child.stdout.on('data', onText);
  child.stderr.on('data', onText);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const waitForLine = (pattern: RegExp, timeoutMs = 30_000) => {
    const found = lines.find((line) => pattern.test(line));
    if (found) return Promise.resolve(found);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; output:\n${lines.join('\n')}`)), timeoutMs);
      waiters.push({
        pattern,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`tarn exited; output:\n${lines.join('\n')}`));
      });
    });
  };

  const listening = JSON.parse(await waitForLine(/"msg":"tarn listening"/, 90_000)) as { port: number };
  return {
    url: `http://127.0.0.1:${listening.port}`,
    port: listening.port,
    child,
    lines,
    exited,
    waitForLine,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}
