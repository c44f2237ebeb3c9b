package dev.cortado.cli;

import dev.cortado.CortadoException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code cortado} — the command line. Errors print one line naming the problem and exit with code 2. */
@Command(name = "cortado", mixinStandardHelpOptions = true, version = "cortado 0.1.0",
        description = "Java inference runtime for ONNX language models.",
        subcommands = {TranslateCommand.class, SummarizeCommand.class, GenerateCommand.class, EmbedCommand.class, TranscribeCommand.class,
                TokenizerCli.Tokenize.class, TokenizerCli.Detokenize.class, TokenizerCli.ChatTemplate.class, InfoCommand.class,
                BatchCommand.class, ServeCommand.class,
                BenchCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @Option(names = "--debug", description = "print stack traces on errors", scope = CommandLine.ScopeType.INHERIT)
    boolean debug;

    @Spec CommandSpec spec;

    /** {@code cortado} alone: the usage goes to stderr and the exit code is 2 (no command was given). */
    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
        throw new UsageRequested();
    }

    /** Thrown by {@link #run()}: usage already printed, exit with code 2 and no further message. */
    static final class UsageRequested extends RuntimeException {
        UsageRequested() {
            super(null, null, false, false);
        }
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI with the given streams and returns the exit code (tests call this). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        boolean debug = java.util.Arrays.asList(args).contains("--debug");
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("cortado: " + oneLine(ex.getMessage()));
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parse) -> {
            if (ex instanceof UsageRequested) return 2;
            if (debug) ex.printStackTrace(err);
            err.println("cortado: error: " + message(ex));
            return 2;
        });
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) {
            err.println("cortado: error: out of Java heap memory (" + e.getMessage() + "); raise -Xmx via CORTADO_JAVA_OPTS");
            return 2;
        }
    }

    /** The error line: one line however the message was written (JSON parsers put the location on a second line). */
    static String message(Throwable ex) {
        return oneLine(rawMessage(ex));
    }

    static String oneLine(String s) {
        return s == null ? "null" : s.strip().replaceAll("\\s*\\R\\s*", " ");
    }

    private static String rawMessage(Throwable ex) {
        if (ex instanceof CortadoException) return ex.getMessage();
        Throwable c = ex;
        while (c.getCause() != null && !(c instanceof CortadoException)) c = c.getCause();
        if (c instanceof CortadoException) return c.getMessage();
        if (ex instanceof java.nio.file.NoSuchFileException) return "no such file: " + ex.getMessage();
        if (ex instanceof java.io.IOException) return "I/O error: " + ex.getMessage();
        return ex.getClass().getSimpleName() + ": " + ex.getMessage() + " (an internal error: please report it; rerun with --debug for details)";
    }
}
