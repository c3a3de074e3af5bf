// Production commands load eagerly, so a broken import fails every start, not the first use;
// the local-stack helpers (dev issuer, seeding) load only when asked for.
import { runServerCommand } from './server/commands.ts';

const HELP = `tollgate — OAuth2/OIDC authorization gateway for Kafka over HTTP

Usage: tollgate <command> [options]

Commands:
  serve          run authz and rest in one process (the default sidecar)
  authz          run the Envoy ext_authz gRPC service (+ HTTP /auth, health, metrics)
  rest           run the Kafka REST v2 proxy (per-principal OAUTHBEARER sessions)
  explain        show why a token would get its answer for a method and path
  check-config   validate the configuration and the ACL file, then exit
  dev            local-stack helpers: issuer, token, seed, probe

Options:
  -c, --config <file>   configuration file (default: $TOLLGATE_CONFIG)
  -h, --help            this help

Run 'tollgate <command> --help' for a command's options.
`;

// kafkajs 2.2.4's request queue schedules a timer with a negative delay when it is not throttled
// (requestQueue scheduleCheckPendingRequests); Node clamps it to 1 ms and warns. Harmless noise:
// drop that one warning, print every other as Node would.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'TimeoutNegativeWarning')
    process.stderr.write(`${warning.name}: ${warning.message}\n`);
});

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(HELP);
      return command === undefined ? 2 : 0;
    case 'dev': {
      const { runDevCommand } = await import('./dev/dev-command.ts');
      return runDevCommand(rest);
    }
    case 'serve':
    case 'authz':
    case 'rest':
    case 'explain':
    case 'check-config':
      return runServerCommand(command, rest);
    default:
      process.stderr.write(`tollgate: unknown command "${command}" (see tollgate --help)\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`tollgate: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
