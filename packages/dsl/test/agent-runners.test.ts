import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, parseSymbi, withAgentRunners } from '@symbi/dsl';

function configError(source: string): ConfigError {
  try {
    parseConfig(source, { file: 'symbi.toml', env: {} });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const SYMBIONT_AGENTS = parseSymbi('agent reporter { capabilities: [report] }\nagent ours { command: "echo hi" }').agents;

describe('[agents.NAME] in symbi.toml says how an agent runs', () => {
  it('reads command, url and model agents, keeping ${VAR} references for run time', () => {
    const config = parseConfig(
      [
        '[agents.reporter]',
        'command = "./report.sh ${REPORT_DIR}"',
        'env = { REPORT_DIR = "${REPORT_DIR}" }',
        'timeout_seconds = 90',
        '[agents.scanner]',
        'url = "http://127.0.0.1:9000/run"',
        '[agents.writer]',
        'model = "claude-sonnet-4-5"',
        'system_prompt = "Write the weekly summary."',
      ].join('\n'),
      { env: {} },
    );
    expect(config.agents).toEqual({
      reporter: { command: './report.sh ${REPORT_DIR}', env: { REPORT_DIR: '${REPORT_DIR}' }, timeoutMs: 90_000 },
      scanner: { url: 'http://127.0.0.1:9000/run' },
      writer: { model: 'claude-sonnet-4-5', systemPrompt: 'Write the weekly summary.' },
    });
  });

  it('gives a Symbiont agent its runner and keeps the capabilities its file declares', () => {
    const agents = withAgentRunners(SYMBIONT_AGENTS, { reporter: { command: './report.sh' }, extra: { url: 'http://127.0.0.1:1/x' } });
    expect(agents).toEqual([
      { name: 'reporter', capabilities: ['report'], command: './report.sh' },
      { name: 'ours', capabilities: [], command: 'echo hi' },
      { name: 'extra', capabilities: [], url: 'http://127.0.0.1:1/x' },
    ]);
  });

  it('refuses a runner for an agent whose file already says how it runs', () => {
    expect(() => withAgentRunners(SYMBIONT_AGENTS, { ours: { command: 'echo other' } })).toThrow(
      'agent "ours" says how it runs both in its .symbi file and in [agents.ours] of symbi.toml; keep one',
    );
  });

  it('refuses bad tables, naming the key', () => {
    expect(configError('[agents.a]\nenv = { X = "1" }').detail).toBe('[agents.a] needs `command`, `url` or `model` to say how the agent runs');
    expect(configError('[agents.a]\ncomand = "x"').detail).toBe('unknown key `comand` in [agents.a]; did you mean `command`?');
    expect(configError('[agents.a]\ncommand = "x"\ntimeout_seconds = 0').field).toBe('agents.a.timeout_seconds');
    expect(configError('[agents.a]\nmodel = "m"\nprovider = "gemini"').detail).toBe('`agents.a.provider` must be "anthropic" or "openai"');
    expect(configError('[agent.a]\ncommand = "x"').detail).toBe('unknown table `agent`; did you mean `agents`?');
  });
});
