package dev.cortado.cli;

import dev.cortado.CortadoException;
import dev.cortado.tokenizer.TokenizerCommands;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** tokenize / detokenize / chat-template over Hugging Face tokenizer files. */
final class TokenizerCli {
    private TokenizerCli() {}

    @Command(name = "tokenize", mixinStandardHelpOptions = true, description = "Print {\"ids\",\"tokens\"} for TEXT.")
    static final class Tokenize implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Option(names = "--tokenizer", required = true) Path tokenizer;
        @Option(names = "--no-special", description = "do not add special tokens") boolean noSpecial;
        @Parameters(paramLabel = "TEXT") String text;

        @Override public Integer call() {
            spec.commandLine().getOut().println(TokenizerCommands.tokenizeJson(tokenizer, text, !noSpecial));
            return 0;
        }
    }

    @Command(name = "detokenize", mixinStandardHelpOptions = true, description = "Decode token IDS to text.")
    static final class Detokenize implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Option(names = "--tokenizer", required = true) Path tokenizer;
        @Parameters(paramLabel = "IDS", arity = "1..*") List<String> ids;

        @Override public Integer call() {
            int[] a = new int[ids.size()];
            for (int i = 0; i < a.length; i++) {
                try {
                    a[i] = Integer.parseInt(ids.get(i).replace(",", "").trim());
                } catch (NumberFormatException e) {
                    throw new CortadoException("not a token id: '" + ids.get(i) + "'");
                }
            }
            spec.commandLine().getOut().println(TokenizerCommands.detokenize(tokenizer, a));
            return 0;
        }
    }

    @Command(name = "chat-template", mixinStandardHelpOptions = true, description = "Render a chat template.")
    static final class ChatTemplate implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Option(names = "--tokenizer-config", required = true) Path config;
        @Option(names = "--messages", required = true, description = "JSON list of {role, content}") Path messages;

        @Override public Integer call() {
            spec.commandLine().getOut().print(TokenizerCommands.chatTemplate(config, messages));
            spec.commandLine().getOut().flush();
            return 0;
        }
    }
}
