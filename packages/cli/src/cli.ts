import { Command, CommanderError, Option } from "commander";
import { BUILTIN_PROVIDERS } from "./builtin-providers.js";
import { CliError, oneLine } from "./cli-error.js";
import { EXIT } from "./exit-codes.js";
import { catCommand, cpCommand, lsCommand, prefetchCommand } from "./file-commands.js";
import { ProviderRegistry } from "./provider-registry.js";
import { Reporter } from "./reporter.js";
import { loadProviderModules } from "./resolve-mounts.js";
import { runCommand } from "./run-command.js";

/** The process around the CLI, injectable for tests. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

interface CommonFlags {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  provider?: string[];
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function common(cmd: Command): Command {
  return cmd
    .option("--json", "NDJSON events on stderr (ls: entries on stdout)")
    .option("-q, --quiet", "only errors")
    .option("-v, --verbose", "per-file events, skipped entries, stack traces")
    .option(
      "--provider <module>",
      "load a provider package (repeatable; also $WS_PROVIDERS, comma-separated)",
      collect,
    );
}

function write(stream: NodeJS.WritableStream, data: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(data, (error) => (error ? reject(error) : resolve()));
  });
}

const EXIT_HELP = `
Exit codes:
  N     ws run: the command's own exit code (128+N when it died of signal N)
  75    ws run: the command ran, but some changes could not be written back
  1     ls/cat/cp/prefetch: some file could not be read or written
  125   ws itself failed before the command ran (arguments, SRC, credentials)
  126   the command could not be run; 127: command not found`;

/** Runs `ws` with `argv` (without node and the script) and resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const registry = new ProviderRegistry();
  for (const descriptor of BUILTIN_PROVIDERS) registry.register(descriptor);
  let exitCode: number = EXIT.ok;
  let verbose = argv.includes("-v") || argv.includes("--verbose");
  let reporter: Reporter | undefined;

  const setup = async (flags: CommonFlags & { dryRun?: boolean }) => {
    verbose = flags.verbose === true;
    reporter = new Reporter({
      json: flags.json === true,
      quiet: flags.quiet === true,
      verbose,
      progress: io.stderr.isTTY === true && !flags.json && !flags.quiet,
      dryRun: flags.dryRun === true,
      write: (text) => {
        io.stderr.write(text);
      },
    });
    const modules = [
      ...(io.env["WS_PROVIDERS"] ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
      ...(flags.provider ?? []),
    ];
    await loadProviderModules(modules, registry, io.cwd);
    return {
      registry,
      reporter,
      env: io.env,
      cwd: io.cwd,
      stdout: (data: string | Uint8Array) => write(io.stdout, data),
    };
  };

  const program = new Command("ws")
    .description("Mount host directories, S3 buckets and other sources, and run a command over them.")
    .version("0.1.0")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, out) => out(`ws: ${s.replace(/^error: /, "")}`),
    })
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .addHelpText(
      "after",
      () => `\nInstalled providers (SRC forms):\n${providerHelp(registry)}\n${EXIT_HELP}\n`,
    );

  common(
    program
      .command("run")
      .description("run a command over mounts: ws run --mount ./data:/data --mount ./out:/out:rw -- CMD ARGS")
      .argument("<command>", "the command")
      .argument("[args...]", "its arguments (put -- before the command)")
      .option(
        "-m, --mount <spec>",
        "SRC:DEST[:ro|:rw] or type=...,src=...,dst=...[,readonly][,ignore=...][,max-bytes=...] (repeatable)",
        collect,
        [],
      )
      .option("-w, --workdir <path>", "working directory inside the workspace (default: the first DEST)")
      .option(
        "-e, --env <K=V>",
        "environment variable for the command (repeatable; K alone copies it)",
        collect,
        [],
      )
      .addOption(
        new Option("--sandbox <mode>", "run under bubblewrap: auto, bwrap or none")
          .choices(["auto", "bwrap", "none"])
          .default("auto"),
      )
      .option("--dry-run", "print what would be mounted and run, touch nothing")
      .passThroughOptions(),
  ).action(
    async (
      command: string,
      args: string[],
      flags: CommonFlags & {
        mount: string[];
        workdir?: string;
        env: string[];
        sandbox: "auto" | "bwrap" | "none";
        dryRun?: boolean;
      },
    ) => {
      const ctx = await setup(flags);
      exitCode = await runCommand(
        command,
        args,
        {
          mount: flags.mount,
          workdir: flags.workdir,
          env: flags.env,
          sandbox: flags.sandbox,
          dryRun: flags.dryRun === true,
        },
        ctx,
      );
    },
  );

  common(
    program
      .command("ls")
      .description("list the files of a source: ws ls s3://bucket/prefix [PATH]")
      .argument("<src>", "the source (./dir, s3://bucket/prefix, or type=...,src=...)")
      .argument("[path]", "only this folder or file")
      .option("-l, --long", "mode, size and mtime"),
  ).action(async (src: string, path: string | undefined, flags: CommonFlags & { long?: boolean }) => {
    const ctx = await setup({ ...flags, json: false, quiet: flags.quiet ?? false });
    exitCode = await lsCommand(src, path, { long: flags.long === true, json: flags.json === true }, ctx);
  });

  common(
    program
      .command("cat")
      .description("print files of a source: ws cat s3://bucket/prefix PATH...")
      .argument("<src>", "the source")
      .argument("<paths...>", "paths relative to the source"),
  ).action(async (src: string, paths: string[], flags: CommonFlags) => {
    const ctx = await setup(flags);
    exitCode = await catCommand(src, paths, ctx);
  });

  common(
    program
      .command("cp")
      .description("copy every file of a source into a destination: ws cp s3://bucket/data ./local")
      .argument("<src>", "the source")
      .argument("<dest>", "the destination (a host directory is created; an S3 prefix is written)")
      .option("-j, --jobs <n>", "files copied in parallel", (v) => Number(v), 32)
      .option("--dry-run", "count what would be copied, write nothing"),
  ).action(async (src: string, dest: string, flags: CommonFlags & { jobs: number; dryRun?: boolean }) => {
    const ctx = await setup(flags);
    exitCode = await cpCommand(src, dest, { jobs: flags.jobs, dryRun: flags.dryRun === true }, ctx);
  });

  common(
    program
      .command("prefetch")
      .description(
        "read every file of one or more sources once, and report (reachability, credentials, speed)",
      )
      .argument("<srcs...>", "the sources")
      .option("-j, --jobs <n>", "files read in parallel", (v) => Number(v), 32),
  ).action(async (srcs: string[], flags: CommonFlags & { jobs: number }) => {
    const ctx = await setup(flags);
    exitCode = await prefetchCommand(srcs, { jobs: flags.jobs }, ctx);
  });

  common(
    program.command("providers").description("list installed providers, their SRC forms and options"),
  ).action(async (flags: CommonFlags) => {
    const ctx = await setup(flags);
    await ctx.stdout(`${providerHelp(registry)}\n`);
  });

  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === "commander.helpDisplayed" ||
        error.code === "commander.version" ||
        error.code === "commander.help"
      ) {
        return EXIT.ok;
      }
      return EXIT.usage;
    }
    const code = error instanceof CliError ? error.exitCode : EXIT.usage;
    const message = oneLine(error).replace(/^(E[A-Z]+): /, "");
    if (reporter) reporter.error(message, {}, error instanceof Error ? error.stack : undefined);
    else io.stderr.write(`ws: error: ${message}\n`);
    if (verbose && !reporter && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return code;
  }
}

function providerHelp(registry: ProviderRegistry): string {
  return registry.all
    .map((d) => {
      const options = d.options.map((o) => `      ${o.name.padEnd(12)} ${o.description}`).join("\n");
      return `  ${d.kind.padEnd(6)} ${d.example.padEnd(22)} ${d.description}${options ? `\n${options}` : ""}`;
    })
    .join("\n");
}
